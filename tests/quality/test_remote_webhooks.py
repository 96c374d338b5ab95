"""Webhooks from a remote target, as a platform team runs them: the target knows the suite's receiver only by
its public URL; a forwarder (a tunnel, a reverse proxy) on another port hands each delivery on to the
address the receiver binds (`--webhook-listen`), under another path prefix. Every webhook check runs (none
skipped), green on the clean target and red on the webhook faults — the receiver knows each endpoint by
the path the suite gave it, whatever the forwarder puts before it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from suite_runs import SECRET, explicit, run
from werkzeug import Request, Response

from cstar_conformance.target import EmbeddedReference, free_port

PUBLIC_PREFIX = "/public/hooks"  # the public URL's path
RELAY_PREFIX = "/relay"  # what the forwarder puts before the endpoint's path on its way to the receiver
DROPPED = {"host", "content-length", "connection", "transfer-encoding"}


class Forwarder:
    """A reverse proxy on its own port: POST {PUBLIC_PREFIX}/<endpoint> → the receiver's {RELAY_PREFIX}/<endpoint>,
    headers and body as they came, the receiver's status back."""

    def __init__(self, listen_port: int) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.listen_port = listen_port
        self.forwarded = 0
        self._lock = threading.Lock()

    def start(self) -> Forwarder:
        import re

        self.server.expect_request(re.compile(".*")).respond_with_handler(self._forward)
        self.server.start()
        return self

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{PUBLIC_PREFIX}"

    def _forward(self, request: Request) -> Response:
        if not request.path.startswith(PUBLIC_PREFIX + "/"):
            return Response("no such tunnel", status=404)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED}
        with self._lock:
            self.forwarded += 1
        try:
            answer = httpx.request(request.method, f"http://127.0.0.1:{self.listen_port}{RELAY_PREFIX}"
                                   f"{request.path.removeprefix(PUBLIC_PREFIX)}", headers=headers,
                                   content=request.get_data(), timeout=30)
        except httpx.HTTPError:
            return Response("receiver unreachable", status=502)
        return Response(answer.content, status=answer.status_code)

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()


@pytest.fixture
def forwarder() -> Iterator[Forwarder]:
    proxy = Forwarder(free_port()).start()
    yield proxy
    proxy.stop()


def remote_run(fault: str | None, forwarder: Forwarder, tmp_path: Path):
    server = EmbeddedReference([fault] if fault else [], extra_args=["--key-a", SECRET])
    server.start()
    try:
        return run("suites/scenarios/test_webhooks.py", *explicit(server, other=True),
                   "--webhook-public-url", forwarder.public_url,
                   "--webhook-listen", f"127.0.0.1:{forwarder.listen_port}", reports=tmp_path, timeout=180,
                   case=f"remote webhooks through a forwarder ({fault or 'clean'})")
    finally:
        server.stop()


def test_every_webhook_check_runs_through_a_forwarder_and_passes_on_the_clean_target(
        forwarder: Forwarder, tmp_path: Path) -> None:
    result = remote_run(None, forwarder, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    summary = result.summary(tmp_path)
    verdicts = [check["verdict"] for check in summary["checks"]]
    assert len(verdicts) >= 10 and set(verdicts) == {"passed"}, [
        (c["test"].split("::")[-1], c["verdict"], c["message"][:200]) for c in summary["checks"]
        if c["verdict"] != "passed"]
    assert forwarder.forwarded >= 10  # every delivery came through the public URL


@pytest.mark.parametrize("fault", ["webhook-signs-reserialized", "webhook-all-teams", "webhook-slow"])
def test_a_webhook_fault_is_caught_through_a_forwarder(fault: str, forwarder: Forwarder, tmp_path: Path) -> None:
    result = remote_run(fault, forwarder, tmp_path)
    assert result.returncode == 1, result.output[-3000:]
    summary = result.summary(tmp_path)
    red = [c for c in summary["checks"] if c["verdict"] == "failed"]
    unreached = [(c["test"], c["message"][:200]) for c in summary["checks"] if c["verdict"] == "skipped"
                 and ("webhook-public-url" in c["message"] or "cannot reach" in c["message"])]
    assert red and not unreached, unreached  # skipped (if at all) only for want of what the fault broke
    assert forwarder.forwarded > 0
