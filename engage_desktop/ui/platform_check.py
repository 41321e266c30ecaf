"""Before Qt opens a window: can it? Qt aborts the whole process with its own long message
when its X11 platform plugin cannot load; this says in one line what to install instead."""

from __future__ import annotations

import ctypes
import os
import sys

# The X11 plugin's libraries that a bare system may lack, by the Debian/Ubuntu package that
# ships each one (read off `ldd` on PySide6's Qt/plugins/platforms/libqxcb.so).
X11_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}


def missing_x11_packages() -> list[str]:
    """The packages whose libraries cannot be loaded here (empty: the plugin can load)."""
    missing = []
    for library, package in X11_LIBRARIES.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return missing


def window_problem(env: dict[str, str] | None = None) -> str | None:
    """Why the app cannot open a window here, in one line with what to do; None if it can
    (or another platform than X11 was chosen: Qt then speaks for itself)."""
    env = dict(os.environ) if env is None else env
    if not sys.platform.startswith("linux"):
        return None  # macOS and Windows have their own platform, always there
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None
    if not platform and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return (
            "there is no display to open a window on (DISPLAY is not set): run Engage Desktop "
            "from a desktop session, or use the command line (`engage-desktop --help`)."
        )
    missing = missing_x11_packages()
    if missing:
        return (
            f"Qt cannot open a window: {len(missing)} X11 librar"
            f"{'y is' if len(missing) == 1 else 'ies are'} missing. On Debian or Ubuntu: "
            f"sudo apt-get install {' '.join(missing)}"
        )
    return None
