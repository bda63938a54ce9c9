"""Serve the sandbox carriers: `python -m backend.sandbox [--port 8790] [--host 127.0.0.1]`."""

from __future__ import annotations

import argparse
import socket
import sys

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from backend.sandbox.carriers.app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8790


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.sandbox",
        description="Offline stand-ins for Harbour Post, Pearl River and SwiftLink.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8790)")
    parser.add_argument("--log-level", default="info", choices=[level.value for level in LogLevels])
    args = parser.parse_args(argv)
    try:
        create_app()  # refuse bad SANDBOX_* values here, before any worker starts
        _check_port_free(args.host, args.port)
    except (ValueError, OSError) as bad:
        print(f"sandbox: {bad}", file=sys.stderr)
        return 2
    # One worker: the sandbox keeps its state in memory. Granian stops it cleanly on SIGINT/SIGTERM.
    Server(
        "backend.sandbox.carriers.app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_level=LogLevels(args.log_level),
    ).serve()
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Granian binds with SO_REUSEPORT, so a second sandbox would silently share the port (and
    split the in-memory state); a plain bind fails while anyone listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as busy:
            raise OSError(f"cannot listen on {host}:{port}: {busy.strerror}") from None


if __name__ == "__main__":
    sys.exit(main())
