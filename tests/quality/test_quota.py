"""Quota-aware: a target that states its quota (X-RateLimit-Limit/-Remaining/-Reset, as cStar does on every
answer) and has too little left for the run stops it before its first write — one line with the time the
quota comes back, exit 14 — instead of cutting it off midway; a run that fits records the quota at its start
and at its end in summary.json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runs import SECRET, explicit, received, run

from cstar_conformance.exits import EXIT_BUDGET
from cstar_conformance.target import EmbeddedReference


@pytest.fixture
def limited(request: pytest.FixtureRequest) -> Iterator[EmbeddedReference]:
    server = EmbeddedReference(extra_args=["--key-a", SECRET, "--rate-limit", str(request.param), "--rate-headers"])
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("limited", [300], indirect=True)
def test_too_little_quota_left_stops_the_run_before_its_first_write(limited: EmbeddedReference,
                                                                    tmp_path: Path) -> None:
    before = received(limited)
    result = run("suites", *explicit(limited), reports=tmp_path, case="quota: 300 left, a gate run needs 480")
    assert result.returncode == EXIT_BUDGET, result.output[-2000:]
    assert len(result.lines) == 1 and result.lines[0].startswith("cstar: the target's rate limit leaves "), result.lines
    assert "UTC (X-RateLimit-Reset)" in result.lines[0] and "gate run needs up to" in result.lines[0]
    assert received(limited) - before == 1  # the preflight's first read, and nothing after it
    summary = result.summary(tmp_path)
    assert summary["exit_status"] == EXIT_BUDGET and summary["quota"]["start"]["limit"] == 300


@pytest.mark.parametrize("limited", [5000], indirect=True)
def test_a_run_that_fits_records_the_quota_at_its_start_and_end(limited: EmbeddedReference, tmp_path: Path) -> None:
    result = run("suites/scenarios/test_email_uniqueness.py", *explicit(limited), reports=tmp_path,
                 case="quota: 5000 left")
    assert result.returncode == 0, result.output[-2000:]
    assert "target quota (X-RateLimit-*): 4999 of 5000 left at the start" in result.output
    quota = result.summary(tmp_path)["quota"]
    start, end = quota["start"], quota["end"]
    assert start["limit"] == end["limit"] == 5000 and start["remaining"] == 4999
    assert 0 < start["remaining"] - end["remaining"] < result.summary(tmp_path)["requests"]["total"]
    assert end["reset_at"].endswith(" UTC")


def test_a_target_that_states_no_quota_records_none(reference: EmbeddedReference, tmp_path: Path) -> None:
    result = run("suites/scenarios/test_email_uniqueness.py", *explicit(reference), reports=tmp_path,
                 case="quota: none stated")
    assert result.returncode == 0, result.output[-2000:]
    assert result.summary(tmp_path)["quota"] == {"start": None, "end": None}
