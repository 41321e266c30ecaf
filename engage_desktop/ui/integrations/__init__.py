"""Extensions → Integrations: the Klaviyo tile and its details."""
