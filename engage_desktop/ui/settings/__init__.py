"""Parts of the Settings dialog, one per file."""
