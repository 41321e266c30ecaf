"""Serving on a real socket: what the listening socket must be for small responses to be fast."""

from __future__ import annotations

import socket

from engage_desktop.emulator.server import _bind


def test_listening_socket_says_tcp_so_asyncio_turns_nagle_off_on_accepted_ones() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; accepted sockets
    # inherit the listener's proto. With proto 0, every small keep-alive response waited
    # ~40 ms for the client's delayed ACK.
    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.type == socket.SOCK_STREAM
    finally:
        sock.close()
