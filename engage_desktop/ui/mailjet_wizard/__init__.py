"""The Mailjet install wizard: one page per file."""
