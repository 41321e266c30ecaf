"""Sync history: every run, and each run's issues with CSV export."""
