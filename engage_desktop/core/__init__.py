"""Domain types and rules: standard library only."""
