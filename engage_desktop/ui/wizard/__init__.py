"""The install wizard: one page class per file, the rules in core/setup.py."""
