"""Widgets shared by the wizard and the screens (list picker, mapping editor)."""
