"""A loopback forward proxy for the quality tests, as a corporate HTTPS_PROXY is: CONNECT tunnels only, and a
name table of its own (a staging host name that only the proxy can resolve, so a request that does not go
through it fails). Counts the tunnels it opened, by the host asked for."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from collections import Counter


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(line) < 2 or line[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = line[1].rpartition(":")
        address = self.server.names.get(host)
        if address is None:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((address, int(port)), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        for sock in (client, upstream):  # as real proxies do: no Nagle delay on small writes
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.lock:
            self.server.tunnels[host] += 1
        client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        with upstream:
            sockets = [client, upstream]
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    try:
                        data = sock.recv(65536)
                    except OSError:  # a peer reset the connection: the tunnel ends
                        return
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.names = names
        self.tunnels: Counter[str] = Counter()
        self.lock = threading.Lock()


class ForwardProxy:
    def __init__(self, names: dict[str, str]) -> None:
        self.server = _Server(names)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def tunnels(self) -> Counter[str]:
        with self.server.lock:
            return Counter(self.server.tunnels)

    def start(self) -> ForwardProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
