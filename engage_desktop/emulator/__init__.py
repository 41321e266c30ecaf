"""A local Klaviyo: the endpoints, errors and rate limits Engage Desktop relies on, from the spec.

Used by the tests, the benchmarks and `--demo`. Not a client of our own code: it imports
nothing from `klaviyo/`, `storage/` or `sync/`.
"""

from engage_desktop.emulator.app import KlaviyoEmulator, Settings
from engage_desktop.emulator.store import DEMO_API_KEY

__all__ = ["DEMO_API_KEY", "KlaviyoEmulator", "Settings"]
