"""TLS and proxies as real deployments have them: a staging behind a private CA, reached through a corporate
forward proxy. One trust setting serves every request the suite sends — the preflight and the scenarios
(httpx), the fuzzing (Schemathesis, requests), the raw sockets of the concurrency checks — and one proxy
setting likewise: a certificate the machine does not trust is one line and exit 10 before any check, never
a MUST failure of a correct server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from forward_proxy import ForwardProxy
from suite_runs import SECRET, clean_env, one_line_error, run

from cstar_conformance.exits import EXIT_UNREACHABLE, EXIT_USAGE
from cstar_conformance.target import EmbeddedReference

STAGING = "staging.example.test"  # resolved by the proxy alone: a request that bypasses it fails
# the fuzzing, a scenario module and the concurrency checks (raw sockets): every kind of sender the suite has
SENDERS = ["suites/contract", "suites/scenarios/test_create_and_read.py", "suites/scenarios/test_concurrency.py"]


@dataclass
class Staging:
    reference: EmbeddedReference
    ca: Path
    port: int

    def args(self, host: str = "127.0.0.1") -> list[str]:
        target = self.reference.target()
        return ["--base-url", f"https://{host}:{self.port}/api/v1", "--api-key", target.team.api_key,
                "--team-id", target.team.id]


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staging]:
    folder = tmp_path_factory.mktemp("private-ca")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", STAGING)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(folder / "cert.pem"), append=True)
    server = EmbeddedReference(extra_args=["--key-a", SECRET, "--tls-cert", str(folder / "cert.pem"),
                                           "--tls-key", str(folder / "key.pem")])
    info = server.start()
    assert str(info["base_url"]).startswith("https://")
    port = int(str(info["base_url"]).rsplit(":", 1)[1].split("/")[0])
    yield Staging(server, folder / "ca.pem", port)
    server.stop()


def test_a_certificate_the_machine_does_not_trust_is_one_line_and_exit_10(staging: Staging, tmp_path: Path) -> None:
    result = run("suites", *staging.args(), reports=tmp_path, case="TLS: private CA not given")
    one_line_error(result, EXIT_UNREACHABLE, tmp_path, "certificate", "--ca-bundle")
    assert "_ssl.c" not in result.output and "Traceback" not in result.output, result.output


def test_a_ca_bundle_that_does_not_exist_is_a_usage_error(staging: Staging, tmp_path: Path) -> None:
    result = run("suites", *staging.args(), "--ca-bundle", str(tmp_path / "missing.pem"), reports=tmp_path,
                 case="TLS: --ca-bundle missing")
    one_line_error(result, EXIT_USAGE, tmp_path, "--ca-bundle", "does not exist")


@pytest.mark.parametrize("how", ["--ca-bundle", "CSTAR_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_private_ca_given_once_serves_every_sender(how: str, staging: Staging, tmp_path: Path) -> None:
    flag = ["--ca-bundle", str(staging.ca)] if how == "--ca-bundle" else []
    env = clean_env(**({how: str(staging.ca)} if how != "--ca-bundle" else {}))
    result = run(*SENDERS, *staging.args(), *flag, reports=tmp_path, env=env, timeout=180,
                 case=f"TLS: private CA by {how}")
    assert result.returncode == 0, result.output[-3000:]
    summary = result.summary(tmp_path)
    families = summary["requests"]["by_family"]
    assert families.get("contract", 0) > 0 and families.get("concurrency", 0) > 0, families


def test_every_sender_goes_through_the_https_proxy(staging: Staging, tmp_path: Path) -> None:
    proxy = ForwardProxy({STAGING: "127.0.0.1"}).start()
    try:
        env = clean_env(HTTPS_PROXY=proxy.url, NO_PROXY="", SSL_CERT_FILE=str(staging.ca))
        result = run(*SENDERS, *staging.args(STAGING), reports=tmp_path, env=env, timeout=180,
                     case="TLS through an HTTPS_PROXY")
    finally:
        proxy.stop()
    # the staging's name resolves nowhere but in the proxy: a sender that went around it could not connect
    assert result.returncode == 0, result.output[-3000:]
    summary = result.summary(tmp_path)
    assert summary["requests"]["by_family"].get("concurrency", 0) > 0
    assert proxy.tunnels[STAGING] >= 3, proxy.tunnels
