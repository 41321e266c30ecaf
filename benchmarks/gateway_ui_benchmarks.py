"""The SMS gateway in the app (offscreen): GUI-thread stalls while New Message sends to
100,000 recipients through the MessageMedia emulator (its own process, 300 ms latency).

    python benchmarks/gateway_ui_benchmarks.py stall [--recipients 100000] [--latency-ms 300]

A 10 ms QTimer on the GUI thread measures how late each tick fires, from the yes on the
confirmation (the campaign is written on the writer thread, then sent by a child process that
the gateway worker's thread reads) until the send's last event. Goal (issue 13): the GUI never
stalls > 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def stall(args: argparse.Namespace) -> None:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from send_benchmarks import MM_ENV, Emulator, contacts

    from engage_desktop.app import EngageApp, interactive_client
    from engage_desktop.gateway.events import SendFinished
    from engage_desktop.storage.database import open_database
    from engage_desktop.storage.gateway_settings import GatewayRepo, GatewaySettings
    from engage_desktop.storage.keystore import KeyStore
    from engage_desktop.storage.memory_keyring import use_memory_keyring
    from engage_desktop.ui.context import AppContext
    from engage_desktop.ui.main_window import Screen

    os.environ.update(MM_ENV)  # the key and secret from the environment, as on a server
    emu = Emulator("messagemedia", "--latency-ms", str(args.latency_ms))
    use_memory_keyring()
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with tempfile.TemporaryDirectory() as d:
            db = open_database(d)
            lst = contacts(db, args.recipients, mix=False)
            GatewayRepo(db).save(GatewaySettings(emu.url, connected_at=time.time()))
            ctx = AppContext(db, KeyStore(), interactive_client)
            engage = EngageApp(ctx, Path(d))
            engage.start()
            engage.window.show_screen(Screen.NEW_MESSAGE)
            screen = engage.message

            async def ready() -> None:
                while not screen.gateway_ready or screen.list_choice.count() < 2:
                    await asyncio.sleep(0.05)

            loop.run_until_complete(ready())
            screen.list_choice.setCurrentIndex(screen.list_choice.findData(lst.id))
            text = "Hi {first_name|there}, 20% off today"
            screen.editor.setPlainText(text)
            flow = engage.gateway.send_flow
            plan = loop.run_until_complete(flow.confirm(lst.id, text))
            assert plan is not None and flow.question is not None
            flow.question.close()
            lateness: list[float] = []
            worst: list[tuple[float, float]] = []
            last = [time.perf_counter()]
            probe = QTimer(interval=10)

            def tick() -> None:
                now = time.perf_counter()
                late = (now - last[0]) * 1000 - 10
                lateness.append(late)
                if late > 30:
                    worst.append((late, now - started))
                last[0] = now

            probe.timeout.connect(tick)
            done: list[SendFinished] = []
            engage.bridge.send_finished.connect(done.append)
            sent_at: list[float] = []
            flow.campaign_started.connect(lambda _: sent_at.append(time.perf_counter()))

            async def finished() -> None:
                while not done:
                    await asyncio.sleep(0.05)

            started = last[0] = time.perf_counter()
            probe.start()
            flow.ctx.spawn(flow.send(lst.id, text, plan))
            loop.run_until_complete(finished())
            probe.stop()
            took = time.perf_counter() - started
            result = done[0]
            lateness.sort()
            p99 = lateness[int(len(lateness) * 0.99)]
            prepare = sent_at[0] - started if sent_at else float("nan")
            print(
                f"send of {args.recipients:,} recipients from New Message ({args.latency_ms} ms "
                f"latency): {result.status}, {result.submitted:,} submitted, unknown "
                f"{result.unknown}; prepare {prepare:.1f} s, send {result.duration_s:.1f} s, "
                f"total {took:.1f} s"
            )
            print(
                f"GUI-thread stall (10 ms timer probe, {len(lateness):,} ticks): max "
                f"{max(lateness):.0f} ms, p99 {p99:.0f} ms, median "
                f"{statistics.median(lateness):.1f} ms (goal: max <= 50 ms)"
            )
            for late, at in sorted(worst, reverse=True)[:5]:
                print(f"  stall {late:.0f} ms at {at:.1f} s")
            engage.stop()
            db.close()
    finally:
        emu.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("mode", choices=["stall"])
    p.add_argument("--recipients", type=int, default=100_000)
    p.add_argument("--latency-ms", type=int, default=300)
    args = p.parse_args()
    {"stall": stall}[args.mode](args)


if __name__ == "__main__":
    main()
