"""Contact Lists: lists with member counts, source and last sync."""
