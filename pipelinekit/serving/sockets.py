"""Binding the server's TCP ports, with one error message that names the port and the flag."""

from __future__ import annotations

import socket

__all__ = ["bind_tcp"]


def bind_tcp(host: str, port: int, what: str, flag: str, *, reuse_port: bool = False, no_delay: bool = False) -> socket.socket:
    """A TCP socket bound (not listening) to ``host:port``; OSError naming ``what`` and ``flag`` if it cannot be.

    SO_REUSEADDR is always set (a port whose old connections are in TIME_WAIT is free);
    ``reuse_port`` lets the workers of ``serve --num_workers N`` share the port; ``no_delay`` is
    inherited by accepted connections, so that a small answer does not wait ~40 ms on delayed ACKs.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if no_delay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot bind the {what} at {host}:{port}: {exc.strerror}. Pick another with {flag}.") from exc
    return sock
