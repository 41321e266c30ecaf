"""`python -m engage_desktop` runs the command-line front door (the frozen app's sync process
starts with `--sync-worker` and its send process with `--send-worker`; each goes straight to
its worker, past the command line)."""

import sys

if sys.argv[1:2] == ["--sync-worker"]:
    from engage_desktop.sync.worker import main as worker_main

    raise SystemExit(worker_main(sys.argv[2:]))
if sys.argv[1:2] == ["--send-worker"]:
    from engage_desktop.actions.send_worker import main as send_main

    raise SystemExit(send_main(sys.argv[2:]))

if sys.argv[1:2] == ["--import-worker"]:  # a file imported for the app, off its process
    from engage_desktop.actions.import_worker import main as import_main

    raise SystemExit(import_main(sys.argv[2:]))

from engage_desktop.cli import main

raise SystemExit(main())
