"""The live sync status panel and the sync buttons shown on three screens."""
