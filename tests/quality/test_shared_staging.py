"""Shared staging must never be left dirty: a killed run's leftovers are swept by the next run — of the
suite's own marker only, in any letter case."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from suite_runs import clean_env

from cstar_conformance.factory import MARKER
from cstar_conformance.target import EmbeddedReference

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def staging() -> Iterator[EmbeddedReference]:
    server = EmbeddedReference()
    server.start()
    yield server
    server.stop()


def suite_process(server: EmbeddedReference, reports: Path, *extra: str) -> subprocess.Popen[str]:
    target = server.target()
    env = clean_env()
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:cacheprovider", "-q", "-o", f"cstar_reports_dir={reports}",
         "--base-url", target.base_url, "--api-key", target.team.api_key, "--team-id", target.team.id,
         "--other-team-id", target.other_team.id, "--other-api-key", target.other_team.api_key, *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def suite_records(server: EmbeddedReference, other_team_only: bool = False) -> list[str]:
    """Everything of the suite's marker on both teams (or the second one): customers and webhooks."""
    target = server.target()
    found = []
    with httpx.Client(base_url=target.base_url, timeout=10) as client:
        for team in (target.other_team,) if other_team_only else (target.team, target.other_team):
            headers = {"Authorization": f"Bearer {team.api_key}"}
            customers = client.get(f"/teams/{team.id}/customers", params={"search": MARKER, "pageSize": 100},
                                   headers=headers).json()
            found += [c["email"] for c in customers["data"]]
            hooks = client.get(f"/teams/{team.id}/webhooks", params={"pageSize": 100}, headers=headers).json()
            found += [h["url"] for h in hooks["data"] if MARKER in h["url"]]
    return found


def interrupt_mid_run(proc: subprocess.Popen[str], server: EmbeddedReference, sig: int,
                      other_team: bool = False) -> str:
    """Send `sig` once the run is among its scenarios and has records of its own (in the second team
    too, with `other_team`); return its output."""
    deadline = time.monotonic() + 60

    def ready() -> bool:
        return len(suite_records(server)) >= 5 and (not other_team or bool(suite_records(server, True)))

    while not ready() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return out


def test_a_killed_run_is_swept_by_the_next_whatever_the_letter_case_of_its_records(staging: EmbeddedReference,
                                                                                   tmp_path: Path) -> None:
    """SIGKILL leaves records on both teams (nothing can clean up); the next run sweeps them — also one
    whose address the target hands back in upper case. (Ctrl-C and SIGTERM clean up themselves:
    test_interrupts.py.)"""
    out = interrupt_mid_run(suite_process(staging, tmp_path / "b"), staging, signal.SIGKILL, other_team=True)
    assert suite_records(staging, other_team_only=True), "a killed run cleans nothing: both teams keep leftovers"
    target = staging.target()
    leftover = f"{MARKER.upper()}0DEADBEEF-LEFTOVER@CONFORMANCE.EXAMPLE"
    with httpx.Client(base_url=f"{target.base_url}/teams/{target.team.id}", timeout=10,
                      headers={"Authorization": f"Bearer {target.team.api_key}"}) as client:
        made = client.post("/customers", json={"name": "Leftover of a killed run", "email": leftover})
        assert made.status_code == 201, made.text
        rerun = suite_process(staging, tmp_path / "c", "suites/scenarios/test_idempotency.py",
                              "--sweep-older-than", "0")
        out, _ = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, out[-2000:]
        assert not suite_records(staging), "the next run did not sweep the killed run's leftovers"
        assert client.get(f"/customers/{made.json()['data']['id']}").status_code == 404, "the sweep missed it"
