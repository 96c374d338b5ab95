"""network.py: the one trust setting (which source wins, what a bad one says), a refused certificate told
from other transport errors, and the proxy the environment names for a URL."""

from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest

from cstar_conformance.exits import EXIT_USAGE, StopRun
from cstar_conformance.network import Trust, certificate_problem, proxy_for, resolve_trust

PEM = Path(certifi.where())


def test_the_option_wins_over_the_standard_variables_and_certifi_is_the_default(tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(PEM.read_bytes())
    assert resolve_trust(str(PEM), "--ca-bundle", {"SSL_CERT_FILE": str(other)}) == Trust(str(PEM), "--ca-bundle")
    assert resolve_trust(None, "--ca-bundle", {"SSL_CERT_FILE": str(other)}).source == "SSL_CERT_FILE"
    assert resolve_trust(None, "--ca-bundle", {"SSL_CERT_FILE": " ", "REQUESTS_CA_BUNDLE": str(other)}).source \
        == "REQUESTS_CA_BUNDLE"
    default = resolve_trust(None, "--ca-bundle", {})
    assert default == Trust() and default.verify() == certifi.where()


@pytest.mark.parametrize("content", [None, b"not a certificate"])
def test_a_missing_or_unusable_bundle_is_a_usage_error_naming_its_source(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StopRun) as stop:
        resolve_trust(None, "--ca-bundle", {"SSL_CERT_FILE": str(path)})
    assert stop.value.exit_status == EXIT_USAGE and str(stop.value).startswith("SSL_CERT_FILE ")


def test_a_refused_certificate_is_told_from_other_transport_errors() -> None:
    refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    refused.verify_message = "unable to get local issuer certificate"
    wrapped = ConnectionError("connect failed")
    wrapped.__cause__ = refused
    assert certificate_problem(wrapped) == "unable to get local issuer certificate"
    text_only = OSError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate "
                        "(_ssl.c:1006)")
    assert certificate_problem(text_only) == "self-signed certificate"
    assert certificate_problem(ConnectionRefusedError("refused")) is None


def test_the_proxy_for_a_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for("https://staging.example/api/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert proxy_for("https://staging.example/api/v1") == "http://proxy.internal:3128"
    assert proxy_for("https://api.internal.example/api/v1") is None
    assert proxy_for("http://staging.example/api/v1") is None  # HTTPS_PROXY is for https only


def test_every_read_of_the_scenario_client_rearms_quick_acks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a kept-alive server that writes an answer's head and body in two sends (http.server, no
    TCP_NODELAY) the client re-arms TCP_QUICKACK before each read, on every connection of its pool."""
    import http.server
    import threading

    from cstar_conformance import network
    from cstar_conformance.client import ApiClient

    class Split(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            body = b'{"success": true, "data": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()  # the head goes out in one send, the body in another
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Split)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    armed: list[object] = []
    original = network.quick_ack
    monkeypatch.setattr(network, "quick_ack", lambda sock: (armed.append(sock), original(sock)))
    client = ApiClient(f"http://127.0.0.1:{server.server_address[1]}/api/v1", "team", "sk_test_x")
    try:
        for _ in range(3):
            assert client.get("/customers").status_code == 200
    finally:
        client.close()
        server.shutdown()
    assert len(armed) >= 3 and all(sock is not None for sock in armed)


def test_renewed_connections_serve_the_client_and_its_copies_on_new_sockets() -> None:
    """After an interrupt the cleanup starts on new connections (a pooled one may be mid-exchange): the renewed
    pool is the one every `with_key` copy uses, and the old one is closed."""
    import http.server
    import threading

    from cstar_conformance.client import ApiClient

    ports: list[int] = []

    class Record(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            ports.append(self.client_address[1])
            body = b'{"success": true, "data": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = ApiClient(f"http://127.0.0.1:{server.server_address[1]}/api/v1", "team", "sk_test_x")
    other = client.with_key("sk_test_other", "team-2")
    try:
        assert client.get("/customers").status_code == 200
        assert other.get("/customers").status_code == 200  # kept alive: the same connection
        old = client._http  # noqa: SLF001 — the pool itself is what is renewed
        client.renew_connections()
        assert old.is_closed and other._http is client._http and not client._http.is_closed  # noqa: SLF001
        assert other.get("/customers").status_code == 200
        assert client.get("/customers").status_code == 200
    finally:
        client.close()
        server.shutdown()
    assert ports[0] == ports[1] and ports[2] not in ports[:2] and ports[3] == ports[2]
