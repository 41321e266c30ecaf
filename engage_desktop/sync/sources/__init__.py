"""Contact sources: each outside service that brings contacts implements `ContactSource`
(base.py) — Klaviyo (klaviyo.py) and Mailjet (mailjet.py). The engine runs them together:
plan, fetch into the staging area, then one commit for all (storage/commit.py), where
records merge by phone number (storage/merge.py). CSV files are imported, not synced
(engage_desktop/imports/), and merge the same way."""
