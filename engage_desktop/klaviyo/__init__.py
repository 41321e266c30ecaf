"""The Klaviyo API client: auth, revision, pagination, rate limiting, retries, typed results."""
