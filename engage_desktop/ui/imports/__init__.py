"""File → Import contacts…: one page per file."""
