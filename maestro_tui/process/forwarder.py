"""A tiny program that runs inside a sandbox without network and serves some loopback ports.

    python -I -S forwarder.py SOCKET_DIR PORT[,PORT…] -- PROGRAM ARGS...

In a network namespace of its own, 127.0.0.1 is the sandbox's, not the machine's: a model
server on the machine's loopback is out of reach. This listens on 127.0.0.1:PORT inside, and
hands each connection to the unix socket SOCKET_DIR/PORT, where the relay outside
(loopback.py) connects it to the machine's 127.0.0.1:PORT. Unix sockets are files, so they
cross network namespaces; nothing else does. Then it runs the program, passing its exit code
on (128 + N for signal N). Standard library only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

CHUNK = 1 << 16


def pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy until `source` ends, then end `sink`'s writing half."""
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def relay(inside: socket.socket, path: str) -> None:
    outside = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        outside.connect(path)
    except OSError:
        inside.close()
        outside.close()
        return
    back = threading.Thread(target=pipe, args=(outside, inside), daemon=True)
    back.start()
    pipe(inside, outside)
    back.join()
    inside.close()
    outside.close()


def serve(listener: socket.socket, path: str) -> None:
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=relay, args=(conn, path), daemon=True).start()


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: forwarder.py SOCKET_DIR PORT[,PORT…] -- PROGRAM ARGS...", file=sys.stderr)
        return 2
    folder, ports, command = argv[0], argv[1], argv[3:]
    for port in (int(p) for p in ports.split(",") if p):
        # Listening before the program starts, so its first connection finds the port open.
        listener = socket.create_server(("127.0.0.1", port))
        path = os.path.join(folder, str(port))
        threading.Thread(target=serve, args=(listener, path), daemon=True).start()
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        print(f"cannot start {command[0]!r}: {exc}", file=sys.stderr)
        return 127
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda n, _f: child.send_signal(n))
    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
