"""A real uvicorn server in a thread, and a TCP proxy that can cut a database connection at COMMIT."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import uvicorn
from access_support import make_app

from oson_operator.settings import Settings


@contextmanager
def serve_asgi(app: Any, **config: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn on a free port of 127.0.0.1; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run the app under uvicorn on a free port; yields the base URL."""
    with serve_asgi(make_app(settings), limit_concurrency=1000, backlog=1024) as url:
        yield url


# A simple-protocol "COMMIT" message: 'Q', int32 length (4 + 7), "COMMIT\0".
COMMIT_MESSAGE = b"Q\x00\x00\x00\x0bCOMMIT\x00"
IDEMPOTENCY_MARK = b"oson.idempotency_key"
# A payment in one autocommit statement (the function of migration 0007): its commit is that statement.
ONE_STATEMENT_MARK = b"oson.post_transfer("


class CuttingProxy:
    """Forwards TCP to PostgreSQL. When armed, the first connection that claims an idempotency key and
    then sends COMMIT, or sends a payment posted in one statement (which commits with it), is cut: with
    ``forward_commit`` the COMMIT or statement reaches the server first (it commits, the client never
    hears), otherwise it is dropped (nothing is written)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.armed = False
        self.forward_commit = True
        self.cuts = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, *, forward_commit: bool) -> None:
        with self._lock:
            self.armed, self.forward_commit = True, forward_commit

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._client_to_server, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.close()

    def _client_to_server(self, client: socket.socket, server: socket.socket) -> None:
        claimed = False
        try:
            while data := client.recv(65536):
                if IDEMPOTENCY_MARK in data:
                    claimed = True
                if (claimed and COMMIT_MESSAGE in data) or ONE_STATEMENT_MARK in data:
                    with self._lock:
                        cut = self.armed
                        forward = self.forward_commit
                        if cut:
                            self.armed = False
                            self.cuts += 1
                    if cut:
                        # The client's side goes dead first, so no answer to the COMMIT can reach it.
                        client.shutdown(socket.SHUT_RDWR)
                        client.close()
                        if forward:
                            server.sendall(data)
                            time.sleep(0.3)  # let the server commit before its line goes dead too
                        server.shutdown(socket.SHUT_RDWR)
                        server.close()
                        return
                    claimed = False
                server.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, server):
                with suppress(OSError):
                    s.close()

    def close(self) -> None:
        self.listener.close()
