"""All Contacts: the lazy table over the local database, its filters and the detail pane."""
