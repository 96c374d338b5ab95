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
