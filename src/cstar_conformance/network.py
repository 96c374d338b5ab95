"""How the suite reaches a target: one trust setting and one proxy setting for every request it sends — the
scenario client (httpx), Schemathesis (requests), the preflight and the cleanup (the scenario client), the
raw sockets of the concurrency checks (`release.py`).

Trust: the first of `--ca-bundle`, CSTAR_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE,
CURL_CA_BUNDLE that is set (a CA file, or a folder of CA certificates prepared with `c_rehash`), else
certifi's bundle — the one httpx and requests use by default, so that no client trusts what another does
not. Proxies: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY (either letter case), as httpx and requests
read them; the raw sockets read them the same way (urllib's rules) and tunnel with CONNECT.

Quick acknowledgements: a server that writes an answer's head and body in two sends without TCP_NODELAY (Python's
http.server, many small stacks) holds the body back until the head is acknowledged, and a kept-alive connection
delays that acknowledgement by up to 40 ms (200 ms on some systems) — per request. Every sender of the suite
re-arms TCP_QUICKACK before it reads (Linux; elsewhere nothing changes): measured against such a server on
loopback, 40 ms → 1.1 ms per request.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import certifi
import httpcore
import httpx

from cstar_conformance.exits import EXIT_USAGE, StopRun

TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@dataclass(frozen=True)
class Trust:
    """The certificates a target's TLS certificate must chain to."""

    path: str | None = None  # a CA file or folder; None: certifi's bundle
    source: str = ""  # the option or variable it came from

    def context(self) -> ssl.SSLContext:
        if self.path is None:
            return ssl.create_default_context(cafile=certifi.where())
        if Path(self.path).is_dir():
            return ssl.create_default_context(capath=self.path)
        return ssl.create_default_context(cafile=self.path)

    def verify(self) -> str:
        """What requests (Schemathesis) takes as `verify`: the same file or folder."""
        return self.path or certifi.where()

    def described(self) -> str:
        return f"{self.source} {self.path}" if self.path else "certifi's CA bundle (the default)"


def resolve_trust(given: str | None, given_by: str, environ: Mapping[str, str]) -> Trust:
    """`given`: --ca-bundle or CSTAR_CA_BUNDLE (named by `given_by`); else the standard variables."""
    candidates = [(given_by, given)] if given is not None else []
    candidates += [(name, environ.get(name)) for name in TRUST_VARIABLES]
    for source, value in candidates:
        if value is None or not value.strip():
            continue
        path = Path(value.strip()).expanduser()
        if not path.exists():
            raise StopRun(f"{source} {value.strip()!r} does not exist: give the CA certificate (PEM file) or "
                          "folder that the target's certificate chains to", EXIT_USAGE)
        try:
            Trust(str(path.resolve()), source).context()
        except (ssl.SSLError, OSError) as error:
            raise StopRun(f"{source} {value.strip()!r} holds no usable CA certificate ({error}): give a PEM file "
                          "of the CA, or a folder prepared with c_rehash", EXIT_USAGE) from None
        return Trust(str(path.resolve()), source)
    return Trust()


def certificate_problem(error: BaseException) -> str | None:
    """The reason, when a transport error is (or was caused by) a refused TLS certificate."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError) and link.verify_message:
            return str(link.verify_message)
    for link in chain:
        text = str(link)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            reason = text.split("certificate verify failed:")[-1]
            return re.sub(r"\s*\(_ssl\.c:\d+\)", "", reason).strip(" ()'\"") or "certificate verify failed"
    return None


def proxy_for(url: str) -> str | None:
    """The proxy URL the environment names for `url` (None: direct), by urllib's rules as requests reads them."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def connect(url: str, trust: Trust, timeout: float) -> socket.socket:
    """A connected socket to `url`'s host (TLS-wrapped for https), through the environment's proxy when one
    applies (a CONNECT tunnel)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = proxy_for(url)
    if proxy is None:
        sock = socket.create_connection((host, port), timeout=timeout)
    else:
        sock = _tunnel(proxy, host, port, timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if parts.scheme == "https":
        sock = trust.context().wrap_socket(sock, server_hostname=host)
    return sock


QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def quick_ack(sock: socket.socket | None) -> None:
    """Acknowledge what arrives next at once (Linux keeps this only until it next delays an ACK: call it before
    every read)."""
    if QUICKACK is not None and sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        except (OSError, AttributeError, ValueError):
            pass


class _QuickAckStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        quick_ack(self._inner.get_extra_info("socket"))
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _QuickAckStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _QuickAckBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: object = None) -> httpcore.NetworkStream:
        return _QuickAckStream(self._inner.connect_tcp(host, port, timeout, local_address,
                                                       socket_options))  # type: ignore[arg-type]

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: object = None) -> httpcore.NetworkStream:
        return _QuickAckStream(self._inner.connect_unix_socket(path, timeout, socket_options))  # type: ignore[arg-type]

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def quick_acks(client: httpx.Client) -> httpx.Client:
    """`client` with every connection (direct or through a proxy) re-arming quick ACKs before each read. httpx
    has no public setting for its network backend: where its pools keep one (httpcore 1.x), it is wrapped."""
    transports = [client._transport, *client._mounts.values()]  # noqa: SLF001 — no public access
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _QuickAckBackend):
            pool._network_backend = _QuickAckBackend(backend)  # type: ignore[union-attr]  # noqa: SLF001
    return client


def _tunnel(proxy: str, host: str, port: int, timeout: float) -> socket.socket:
    via = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    sock = socket.create_connection((via.hostname or "127.0.0.1", via.port or 8080), timeout=timeout)
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
    if via.username:
        token = base64.b64encode(f"{unquote(via.username)}:{unquote(via.password or '')}".encode()).decode()
        request += f"Proxy-Authorization: Basic {token}\r\n"
    sock.sendall((request + "\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    status = answer.split(b" ", 2)[1:2]
    if status != [b"200"]:
        sock.close()
        first = answer.split(b"\r\n", 1)[0].decode("latin-1") or "no answer"
        raise OSError(f"proxy {via.hostname}:{via.port} refused CONNECT {authority}: {first}")
    return sock


def environment_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """The proxy variables set (for the report header and error lines)."""
    env = os.environ if environ is None else environ
    return [name for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
            if env.get(name)]
