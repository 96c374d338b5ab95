"""The request budget and the 429 policy (every attempt counted, waits bounded, never a 429 handed to a
check), and the per-check verdicts that reports build on (blocked, not run)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cstar_conformance import reporting, summary
from cstar_conformance.interrupts import Interrupts
from cstar_conformance.session import Session
from cstar_conformance.target import Target, Team
from cstar_conformance.traffic import CLEANUP_MARGIN, Budget, BudgetExhausted, Traffic


@dataclass
class Answer:
    status_code: int
    wait: float | None = None


def sender(traffic: Traffic, answers: list[Answer], family: str = "tests"):
    queue = list(answers)

    def send() -> Answer:
        return traffic.send(lambda: queue.pop(0), family=family, operation="GET /customers",
                            status=lambda a: a.status_code, hint=lambda a: a.wait)
    return send


def test_a_429_is_waited_out_and_every_attempt_counted() -> None:
    traffic = Traffic()
    answer = sender(traffic, [Answer(429, 0.0), Answer(429, None), Answer(200)])()
    assert answer.status_code == 200
    assert (traffic.stats.total, traffic.stats.rate_limited, traffic.stats.retry_hints) == (3, 2, [0.0, None])
    assert traffic.budget.waited == 1.0  # no hint: 1 s


def test_a_retry_after_beyond_what_a_run_can_wait_stops_it() -> None:
    traffic = Traffic()
    with pytest.raises(BudgetExhausted, match="asks to wait 3600 s"):
        sender(traffic, [Answer(429, 3600.0)])()
    assert traffic.budget.exhausted and traffic.stats.total == 1
    with pytest.raises(BudgetExhausted):  # and nothing more is sent
        sender(traffic, [Answer(200)])()
    assert traffic.stats.total == 1


def test_endless_429s_stop_the_run_after_a_bounded_number_of_attempts() -> None:
    traffic = Traffic()
    with pytest.raises(BudgetExhausted, match="429 6 times in a row"):
        sender(traffic, [Answer(429, 0.0)] * 10)()
    assert traffic.stats.total == 6


def test_waiting_out_429s_has_a_total_bound() -> None:
    traffic = Traffic(budget=Budget(max_wait=0.05))
    with pytest.raises(BudgetExhausted, match="spent waiting"):
        sender(traffic, [Answer(429, 0.03), Answer(429, 0.03), Answer(200)])()


def test_the_budget_keeps_back_what_the_cleanup_needs_and_never_refuses_the_cleanup() -> None:
    pending = [3]
    traffic = Traffic(budget=Budget(max_requests=20, reserve=lambda: pending[0]))
    allowed = 20 - 3 - CLEANUP_MARGIN
    for _ in range(allowed):
        sender(traffic, [Answer(200)])()
    with pytest.raises(BudgetExhausted, match="kept back for cleanup"):
        sender(traffic, [Answer(200)])()
    for _ in range(5):
        sender(traffic, [Answer(204)], family="cleanup")()
    assert traffic.stats.total == allowed + 5 and traffic.stats.by_family["cleanup"] == 5


def test_a_request_that_fails_in_transport_is_counted_too() -> None:
    traffic = Traffic()

    def broken() -> Answer:
        raise OSError("connection reset")

    with pytest.raises(OSError):
        traffic.send(broken, family="tests", operation="GET /x", status=lambda a: a.status_code, hint=lambda a: None)
    assert traffic.stats.total == 1


def _state() -> Session:
    return Session(target=Target("http://127.0.0.1:9/api/v1", Team("t", "sk_test_" + "x" * 16)), run_id="cstconfunit")


def _report(outcome: str, when: str, longrepr: object, **props: object) -> pytest.TestReport:
    return pytest.TestReport("suites/x.py::test_x", ("suites/x.py", 1, "test_x"), {}, outcome, longrepr, when,
                             user_properties=[("rules", "EMAIL-UNIQUE"), ("level", "MUST"), *props.items()])


def test_a_skip_blocked_by_another_rule_is_its_own_verdict() -> None:
    state = _state()
    reporting.collect(state, _report("skipped", "setup", ("suites/x.py", 1,
                                     "Skipped: blocked by SEARCH-NAME-OR-EMAIL: search cannot count records")))
    reporting.collect(state, _report("skipped", "setup", ("suites/x.py", 1, "Skipped: needs a second team")))
    blocked, plain = state.results
    assert blocked["verdict"] == "blocked" and blocked["blocked_by"] == "SEARCH-NAME-OR-EMAIL"
    assert plain["verdict"] == "skipped"


def test_a_run_stopped_by_its_budget_is_incomplete_and_its_checks_not_run() -> None:
    state = _state()
    state.collected = 3
    reporting.collect(state, _report("passed", "call", None))
    reporting.collect(state, _report("skipped", "call", ("suites/x.py", 1, "Skipped: not run: budget exhausted: …"),
                                     stopped="budget exhausted: …"))
    state.stopped = "budget exhausted: …"
    verdict, complete, reason = summary.verdict_of(state, 14)
    assert (verdict, complete) == ("incomplete", False)
    assert "1 of 3 checks graded" in reason
    data = summary.final(state, 14, reporting.requests_of(state))
    assert data["not_run"] == 2 and data["verdict"] == "incomplete" and data["must_failures"] == 0


@pytest.mark.parametrize(("status", "results", "expected"), [
    (0, ["passed", "passed"], ("pass", True)),
    (1, ["passed", "failed"], ("fail", True)),
    (1, ["failed"], ("fail", False)),  # -x: stopped after the first failure
    (0, ["passed"], ("incomplete", False)),
    (5, [], ("error", False)),
])
def test_the_verdict_follows_the_graded_checks(status: int, results: list[str], expected: tuple[str, bool]) -> None:
    state = _state()
    state.collected = 2 if status != 5 else 0
    state.results = [{"verdict": v, "level": "MUST", "rules": [], "test": f"t{i}", "message": "", "requests": 0,
                      "seconds": 0.0} for i, v in enumerate(results)]
    assert summary.verdict_of(state, status)[:2] == expected


def test_a_run_whose_checks_could_not_all_be_collected_is_an_error() -> None:
    state = _state()
    state.collected, state.collection_errors = 1, 1
    assert summary.verdict_of(state, 2)[:2] == ("error", False)


def test_a_signal_lost_in_a_finalizer_takes_effect_before_the_next_request() -> None:
    """Python swallows a KeyboardInterrupt raised while a finalizer runs (seen: a connection pool closed
    by the garbage collector); until pytest acts on the signal, the next request raises it again."""
    interrupts = Interrupts()
    traffic = Traffic(checkpoint=interrupts.check)
    interrupts.received.append("SIGTERM")  # delivered, but its KeyboardInterrupt was lost
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        sender(traffic, [Answer(200)])()
    assert traffic.stats.total == 0
    interrupts.acknowledge()  # pytest stopped the run: the cleanup's requests go through
    assert sender(traffic, [Answer(204)], family="cleanup")().status_code == 204
