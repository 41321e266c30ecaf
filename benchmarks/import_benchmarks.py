"""The import wizard over a big file (offscreen). From the `benchmarks/` folder:

    python import_benchmarks.py stall --rows 1000000

Writes a CSV file of ROWS contacts (phone, names, email, opted out, a number field), opens
File → Import contacts… in the app, runs the dry run and then the import, both through the
wizard as a person would, while a 10 ms timer on the GUI thread measures how late it fires.
Goal (issue 14): the GUI thread never stalls > 50 ms while a 1,000,000-row import runs.
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
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Phone,First name,Last name,Email,Opted out,Points\n")
        for i in range(rows):
            out = "yes" if i % 50 == 0 else "no"
            f.write(f"+1415{2000000 + i:07d},Ann{i % 97},Lee{i % 89},a{i}@example.com,{out},{i}\n")


def stall(args: argparse.Namespace) -> None:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from engage_desktop.app import EngageApp, interactive_client
    from engage_desktop.storage.database import open_database
    from engage_desktop.storage.keystore import KeyStore
    from engage_desktop.storage.memory_keyring import use_memory_keyring
    from engage_desktop.ui.context import AppContext
    from engage_desktop.ui.imports.import_wizard import ImportStep
    from engage_desktop.ui.main_window import Screen

    use_memory_keyring()
    app = QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "big.csv"
        began = time.perf_counter()
        write_csv(csv, args.rows)
        print(f"wrote {args.rows:,} rows ({csv.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        db = open_database(Path(d) / "data")
        ctx = AppContext(db, KeyStore(), interactive_client)
        engage = EngageApp(ctx, Path(d) / "data")
        engage.start()
        engage.window.show_screen(Screen.CONTACTS)
        lateness: dict[str, list[float]] = {"dry run": [], "import": [], "reload": []}
        worst: list[tuple[float, str, float]] = []  # ms late, phase, seconds into it
        phase = ["dry run"]
        last = [time.perf_counter()]
        began = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            late = (now - last[0]) * 1000 - 10
            lateness[phase[0]].append(late)
            if late > 30:
                worst.append((late, phase[0], now - began[0]))
            last[0] = now

        probe = QTimer(interval=10)
        probe.timeout.connect(tick)
        if args.why:  # a watchdog says what the GUI thread was doing during a long stall
            import threading
            import traceback

            gui = threading.get_ident()

            def watch() -> None:
                while True:
                    time.sleep(0.02)
                    if time.perf_counter() - last[0] > 0.08 and phase[0] == "import":
                        frame = sys._current_frames().get(gui)
                        where = "".join(traceback.format_stack(frame)[-6:]) if frame else "?"
                        print(
                            f"GUI thread late at {time.perf_counter() - began[0]:.1f} s:\n{where}"
                        )
                        time.sleep(0.1)

            threading.Thread(target=watch, daemon=True).start()

        async def until(test: object) -> None:
            while not test():  # type: ignore[operator]
                await asyncio.sleep(0.02)

        engage.window.import_requested.emit()
        wizard = engage.imports.wizard
        assert wizard is not None
        wizard.page(ImportStep.FILE).choose(csv)
        loop.run_until_complete(until(wizard.page(ImportStep.FILE).isComplete))
        wizard.next()
        wizard.page(ImportStep.COLUMNS).group.setText("Benchmark")
        check = wizard.page(ImportStep.CHECK)
        last[0] = began[0] = started = time.perf_counter()
        probe.start()
        wizard.next()  # checks the plan, then the dry run starts
        loop.run_until_complete(until(lambda: wizard.currentId() == ImportStep.CHECK))
        loop.run_until_complete(until(check.isComplete))
        dry = time.perf_counter() - started
        print(f"dry run: {check.counts['new'].text()} new in {dry:.1f} s")
        done: list[object] = []

        def imported(result: object) -> None:  # the commit has returned
            done.append(result)
            phase[0] = "reload"
            began[0] = time.perf_counter()

        wizard.imported.connect(imported)
        phase[0] = "import"
        began[0] = started = time.perf_counter()
        wizard.next()  # Import
        loop.run_until_complete(until(lambda: bool(done)))
        took = time.perf_counter() - started
        # The screens then reload what the import changed (a million-contact snapshot).
        loop.run_until_complete(until(lambda: engage.contacts.model.rowCount() == args.rows))
        loop.run_until_complete(asyncio.sleep(1.0))
        probe.stop()
        report = done[0].report  # type: ignore[attr-defined]
        print(f"import: {report.counts.new:,} new contacts in {took:.1f} s")
        names = {"reload": "screens' reload after it"}
        for name, values in lateness.items():
            values.sort()
            name = names.get(name, name)
            print(
                f"GUI-thread stall during the {name} (10 ms timer probe, {len(values):,} "
                f"ticks): max {max(values):.0f} ms, p99 {values[int(len(values) * 0.99)]:.0f} "
                f"ms, median {statistics.median(values):.1f} ms (goal: max <= 50 ms)"
            )
        for late, during, at in sorted(worst, reverse=True)[:5]:
            print(f"  stall {late:.0f} ms at {at:.1f} s into the {during}")
        engage.stop()
        db.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("mode", choices=["stall"])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--why", action="store_true", help="print the GUI thread's stack in stalls")
    args = p.parse_args()
    stall(args)


if __name__ == "__main__":
    main()
