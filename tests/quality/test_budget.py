"""Every request the suite sends is counted — preflight, sweep, Schemathesis and its checks' probes,
429 retries, cleanup, audit — and the run keeps within its budget: when the budget, or the target's
429s, would be exceeded it stops with "budget exhausted" and its own exit status instead of hanging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runs import explicit, received, run

from cstar_conformance.exits import EXIT_BUDGET
from cstar_conformance.target import EmbeddedReference


@pytest.fixture()
def bursty() -> Iterator[EmbeddedReference]:
    """A target with a per-key limit of two requests per second: bursts of 429 with a Retry-After of a second
    or two. Four per two seconds: the fuzzing meets 429s even on a loaded machine (at five per second, one
    run under three parallel workers beside other suite runs met none; at eight, more)."""
    server = EmbeddedReference(extra_args=["--rate-limit", "4", "--rate-window", "2"])
    server.start()
    yield server
    server.stop()


def counted(reference: EmbeddedReference, reports: Path, case: str, *extra: str) -> tuple[dict[str, object], int]:
    """Run the fuzzing phase (smoke) and one scenario file with both teams and the publishable key;
    return the suite's summary and the number of requests the reference received meanwhile."""
    before = received(reference)
    result = run("suites/contract", "suites/scenarios/test_transport.py", "--profile", "smoke",
                 *explicit(reference, other=True), "--publishable-key", reference.target().team.publishable_key,
                 *extra, reports=reports, timeout=300, case=case)
    assert result.returncode == 0, result.output[-3000:]
    return result.summary(reports), received(reference) - before


def test_the_suite_counts_every_request_the_target_receives_429_retries_included(bursty: EmbeddedReference,
                                                                                 tmp_path: Path) -> None:
    summary, target_count = counted(bursty, tmp_path, "request count vs the target's (429 bursts)")
    requests = summary["requests"]
    assert requests["total"] == target_count, (requests["total"], target_count)
    assert requests["rate_limited_by_family"].get("contract", 0) > 0, "no 429 met while fuzzing: this proves nothing"
    assert requests["by_family"]["contract"] > 0 and requests["by_family"]["preflight"] > 0
    assert sum(requests["by_family"].values()) == sum(requests["by_operation"].values()) == requests["total"]
    assert all(c["verdict"] != "failed" for c in summary["checks"])  # a 429 is never graded


def test_two_xdist_workers_keep_the_count_and_its_families_and_operations(reference: EmbeddedReference,
                                                                          tmp_path: Path) -> None:
    summary, target_count = counted(reference, tmp_path, "request count vs the target's (-n 2)", "-n", "2")
    requests = summary["requests"]
    assert requests["total"] == target_count, (requests["total"], target_count)
    assert {"preflight", "contract", "transport", "cleanup"} <= set(requests["by_family"])
    assert sum(requests["by_family"].values()) == sum(requests["by_operation"].values()) == requests["total"]
    keywords = summary["coverage"]["keywords"]["customer_operations"]  # the workers' keyword hits arrive too
    # (reached both ways, a valid and an invalid value, needs more examples than the gate's three per operation)
    assert keywords["request_reached"] > 0 and keywords["response_reached"] > 0


def test_a_run_that_would_exceed_its_budget_stops_within_it_and_cleans_up(tmp_path: Path) -> None:
    server = EmbeddedReference()
    server.start()
    try:
        before = received(server)
        result = run("suites", *explicit(server), "--max-requests", "60", reports=tmp_path, case="--max-requests 60")
        sent = received(server) - before
        leftovers = server.running.client().get("/customers", params={"search": "cstconf"}).json()["data"]
    finally:
        server.stop()
    assert result.returncode == EXIT_BUDGET, result.output[-3000:]
    assert "VERDICT: INCOMPLETE — budget exhausted" in result.stdout and "Traceback" not in result.output
    summary = result.summary(tmp_path)
    assert (summary["verdict"], summary["exit_status"]) == ("incomplete", EXIT_BUDGET)
    assert sent <= 60 and summary["requests"]["total"] == sent
    assert summary["not_run"] > 0 and summary["must_failures"] == 0
    assert not leftovers, "the budget must keep enough back for the cleanup"


def test_a_target_whose_rate_limit_is_spent_stops_the_run_instead_of_hanging(tmp_path: Path) -> None:
    result = run("suites", "--reference-arg=--rate-limit=40", "--reference-arg=--rate-window=3600",
                 reports=tmp_path, timeout=120, case="429 with Retry-After of an hour, mid-run")
    assert result.returncode == EXIT_BUDGET, result.output[-3000:]
    assert result.seconds < 60
    assert "budget exhausted: the target's rate limit asks to wait" in result.stdout
    assert json.loads((tmp_path / "summary.json").read_text())["verdict"] == "incomplete"


def test_a_rate_limit_spent_before_the_first_check_is_one_line(tmp_path: Path) -> None:
    result = run("suites", "--reference-arg=--rate-limit=1", "--reference-arg=--rate-window=3600",
                 reports=tmp_path, case="429 with Retry-After of an hour, in the preflight")
    assert result.returncode == EXIT_BUDGET, result.output[-3000:]
    assert len(result.lines) == 1 and "budget exhausted" in result.lines[0], result.lines
