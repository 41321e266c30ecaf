"""Engage Desktop: keeps a local SMS contact store in step with Klaviyo."""

__version__ = "0.1.0"
