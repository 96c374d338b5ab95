"""Ctrl-C and SIGTERM at any moment — start-up, preflight, mid-run, twice — end the run with a clean
verdict that says it is incomplete, exit status 2, no traceback, and no record or process left behind
(a second Ctrl-C during the cleanup stops at once and says what it left)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from suite_runs import children, ctrl_c, finish, start, wait_for

from cstar_conformance.factory import MARKER
from cstar_conformance.target import EmbeddedReference


@pytest.fixture()
def staging() -> Iterator[EmbeddedReference]:
    server = EmbeddedReference()
    server.start()
    yield server
    server.stop()


def remote(server: EmbeddedReference) -> list[str]:
    target = server.target()
    return ["--base-url", target.base_url, "--api-key", target.team.api_key, "--team-id", target.team.id,
            "--other-team-id", target.other_team.id, "--other-api-key", target.other_team.api_key]


def suite_records(server: EmbeddedReference) -> list[str]:
    """Everything of the suite's marker on both teams: customers and webhooks."""
    target = server.target()
    found = []
    with httpx.Client(base_url=target.base_url, timeout=10) as client:
        for team in (target.team, target.other_team):
            headers = {"Authorization": f"Bearer {team.api_key}"}
            customers = client.get(f"/teams/{team.id}/customers", params={"search": MARKER, "pageSize": 100},
                                   headers=headers).json()
            found += [c["email"] for c in customers["data"]]
            hooks = client.get(f"/teams/{team.id}/webhooks", params={"pageSize": 100}, headers=headers).json()
            found += [h["url"] for h in hooks["data"] if MARKER in h["url"].lower()]
    return found


def run_until_records(server: EmbeddedReference, tmp_path: Path, count: int, *args: str,
                      timeout: float = 90) -> tuple[subprocess.Popen[str], float]:
    """A run against `server`, once it has made `count` records that carry the suite's marker."""
    proc = start("suites", "-q", *args, *remote(server), reports=tmp_path)
    started = time.monotonic()
    wait_for(lambda: len(suite_records(server)) >= count or proc.poll() is not None, timeout, "records of the run")
    assert proc.poll() is None, "the run ended before it could be interrupted"
    return proc, started


def interrupted_cleanly(result, reports: Path, reason: str) -> dict[str, object]:
    assert result.returncode == 2, result.output[-3000:]
    assert "Traceback" not in result.output, result.output[-3000:]
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["verdict"] == "incomplete" and summary["complete"] is False and summary["exit_status"] == 2
    assert reason in str(summary["reason"]), summary["reason"]
    return summary


def test_sigterm_mid_run_cleans_up_both_teams_and_says_the_run_is_incomplete(staging: EmbeddedReference,
                                                                              tmp_path: Path) -> None:
    proc, started = run_until_records(staging, tmp_path, 5)
    proc.send_signal(signal.SIGTERM)  # to the process alone, as `timeout` or a CI runner does
    result = finish(proc, started, "SIGTERM mid-run (remote target)")
    interrupted_cleanly(result, tmp_path, "interrupted (SIGTERM)")
    assert "VERDICT: INCOMPLETE — interrupted (SIGTERM)" in result.output
    assert not suite_records(staging), "an interrupted run left records behind"


def test_sigterm_to_an_xdist_run_leaves_no_record_of_any_worker(staging: EmbeddedReference,
                                                                tmp_path: Path) -> None:
    proc, started = run_until_records(staging, tmp_path, 8, "-n", "2", timeout=120)
    proc.send_signal(signal.SIGTERM)  # to the main process alone, as a CI runner does
    result = finish(proc, started, "SIGTERM mid-run (-n 2)")
    interrupted_cleanly(result, tmp_path, "interrupted (SIGTERM)")
    assert not suite_records(staging), "a worker of an interrupted run left records behind"


def test_what_the_cleanup_of_an_interrupted_run_cannot_delete_is_in_its_verdict_not_a_traceback(
        tmp_path: Path) -> None:
    """After an interrupt pytest tears the session down outside any test, where a failed cleanup would be
    a traceback and no verdict at all: here DELETE answers 204 and keeps the record listed."""
    server = EmbeddedReference(faults=["soft-delete-still-listed"])
    server.start()
    try:
        proc, started = run_until_records(server, tmp_path, 5)
        proc.send_signal(signal.SIGTERM)
        result = finish(proc, started, "SIGTERM mid-run, cleanup cannot delete")
    finally:
        server.stop()
    summary = interrupted_cleanly(result, tmp_path, "interrupted (SIGTERM)")
    assert summary["left_behind"] and f"records of run {summary['run_id']} remain" in str(summary["reason"])
    assert "remain: left on the target: customer" in result.output, result.output[-3000:]


def test_ctrl_c_mid_run_with_the_embedded_reference_stops_it_and_leaves_no_process(tmp_path: Path) -> None:
    proc = start("suites", "-q", reports=tmp_path)
    started = time.monotonic()
    wait_for(lambda: len(list((tmp_path / "allure-results").glob("*-result.json"))) >= 3 or proc.poll() is not None,
             90, "the first checks")
    running = children(proc.pid)
    assert proc.poll() is None and running, "the run ended before it could be interrupted"
    ctrl_c(proc)
    result = finish(proc, started, "Ctrl-C mid-run (embedded reference)")
    interrupted_cleanly(result, tmp_path, "interrupted (SIGINT)")
    assert len(result.lines) < 40, result.lines
    time.sleep(0.5)
    assert not [pid for pid in running if Path(f"/proc/{pid}").exists()], "the embedded reference outlived the run"


def test_ctrl_c_while_the_embedded_reference_starts_is_one_line(tmp_path: Path) -> None:
    proc = start("suites", reports=tmp_path)
    started = time.monotonic()
    wait_for(lambda: children(proc.pid) or proc.poll() is not None, 60, "the embedded reference to be started")
    ctrl_c(proc)
    result = finish(proc, started, "Ctrl-C during start-up")
    interrupted_cleanly(result, tmp_path, "interrupted during start-up")
    assert result.lines == ["cstar: interrupted during start-up (SIGINT)"], result.lines


def test_ctrl_c_during_the_preflight_is_one_line(tmp_path: Path) -> None:
    """A target that accepts connections and never answers: the preflight waits; Ctrl-C ends it at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        held.append(conn)
        connected.set()

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"
    proc = start("suites", "--base-url", url, "--api-key", "sk_test_" + "h" * 20, "--team-id", "t", reports=tmp_path)
    started = time.monotonic()
    try:
        assert connected.wait(60), "the preflight never connected"
        ctrl_c(proc)
        signalled = time.monotonic()
        result = finish(proc, started, "Ctrl-C during the preflight")
        assert time.monotonic() - signalled < 5
    finally:
        for conn in held:
            conn.close()
        listener.close()
    interrupted_cleanly(result, tmp_path, "interrupted during start-up")
    assert result.lines == ["cstar: interrupted during start-up (SIGINT)"], result.lines


def test_a_second_ctrl_c_during_the_cleanup_stops_at_once_with_one_line(staging: EmbeddedReference,
                                                                        tmp_path: Path) -> None:
    proc, started = run_until_records(staging, tmp_path, 12, "--max-rps", "15", timeout=120)
    ctrl_c(proc)
    peak = len(suite_records(staging))
    wait_for(lambda: len(suite_records(staging)) < peak or proc.poll() is not None, 30, "the cleanup to begin")
    assert proc.poll() is None, "the cleanup ended before the second Ctrl-C"
    ctrl_c(proc)
    result = finish(proc, started, "Ctrl-C twice (second during the cleanup)")
    summary = interrupted_cleanly(result, tmp_path, "interrupted twice")
    assert result.lines[-1].startswith("cstar: SIGINT again — stopped at once"), result.lines[-3:]
    assert summary["run_id"] in result.lines[-1] and "sweeps them" in result.lines[-1]
    assert len(result.lines) < 40, result.lines
