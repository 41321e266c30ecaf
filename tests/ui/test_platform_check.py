"""Before a window: a missing display or X11 library is one line saying what to install."""

from __future__ import annotations

import ctypes

import pytest

from engage_desktop.ui import platform_check
from engage_desktop.ui.platform_check import window_problem


def test_no_display_is_said_plainly() -> None:
    problem = window_problem({})
    assert problem is not None and "DISPLAY is not set" in problem


def test_offscreen_or_wayland_is_left_to_qt() -> None:
    assert window_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert window_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_missing_x11_libraries_are_named_by_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ctypes.CDLL

    def cdll(name: str, *args: object, **kw: object) -> object:
        if name in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
            raise OSError(f"{name}: cannot open shared object file")
        return real(name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(platform_check.ctypes, "CDLL", cdll)
    monkeypatch.setattr(
        platform_check,
        "X11_LIBRARIES",
        {
            "libxcb-icccm.so.4": "libxcb-icccm4",
            "libxcb-keysyms.so.1": "libxcb-keysyms1",
            "libc.so.6": "libc6",
        },
    )
    problem = window_problem({"DISPLAY": ":0"})
    assert problem is not None
    assert problem.endswith("sudo apt-get install libxcb-icccm4 libxcb-keysyms1")
    assert "2 X11 libraries are missing" in problem
