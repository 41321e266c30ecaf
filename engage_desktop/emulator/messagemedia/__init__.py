"""A local Sinch MessageMedia Messages API: send, status, cancel, replies, delivery reports and
the blacklist, on a clock, from the spec (S1) and what the official SDKs send.

Used by the tests, the benchmarks and demo mode. Not a client of our own code. Credentials
accepted unless `Settings` say otherwise (documented, not secret): key `DEMO_API_KEY`,
secret `DEMO_API_SECRET`.

    from engage_desktop.emulator.messagemedia import MessageMediaEmulator, Settings
    from engage_desktop.emulator.server import EmulatorThread, serve_forever

    with EmulatorThread(MessageMediaEmulator(Settings(latency_ms=300))) as live:
        ...  # live.url
    serve_forever(MessageMediaEmulator(Settings(api_key=k, api_secret=s)), host, port)
"""

from engage_desktop.emulator.messagemedia.app import MessageMediaEmulator
from engage_desktop.emulator.messagemedia.settings import DEMO_API_KEY, DEMO_API_SECRET, Settings

__all__ = ["DEMO_API_KEY", "DEMO_API_SECRET", "MessageMediaEmulator", "Settings"]
