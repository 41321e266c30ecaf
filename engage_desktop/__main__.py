"""`python -m engage_desktop` runs the command-line front door."""

from engage_desktop.cli import main

raise SystemExit(main())
