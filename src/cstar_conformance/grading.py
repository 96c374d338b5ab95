"""pytest hooks of a running suite session: each check graded by the level of its rules, its
requests and time noted, a check the budget stopped reported as not run (never as a failure),
the verdict printed and written. Registered by the plugin for suite sessions only."""

from __future__ import annotations

import time
from typing import Any

import pytest

from cstar_conformance import baseline, fuzz_failures, levels, reporting
from cstar_conformance.model import Violation
from cstar_conformance.observer import ModelViolation
from cstar_conformance.rules import BY_ID
from cstar_conformance.session import FAMILY, current
from cstar_conformance.traffic import BudgetExhausted

_REQUESTS_AT_START = pytest.StashKey[int]()
_429_AT_START = pytest.StashKey[int]()
_HOUSEKEEPING_AT_START = pytest.StashKey[int]()
_STARTED = pytest.StashKey[float]()
_RENDERED = pytest.StashKey[str]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _housekeeping() -> int:
    state = current()
    assert state is not None
    return state.stats.by_family["cleanup"] + state.stats.by_family["sweep"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = current()
    if state is None:
        return
    for item in items:
        try:
            levels.grade_of(item)
        except KeyError as exc:
            raise pytest.UsageError(f"{item.nodeid}: {exc}") from None
        variant = item.get_closest_marker("thorough")
        if variant is not None and state.profile != "thorough":
            why = variant.args[0] if variant.args else ""
            item.add_marker(pytest.mark.skip(reason=f"a variant the thorough profile adds (the {state.profile} "
                                                    f"keeps its rule: {why})"))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    state = current()
    if state is not None and report.failed:
        state.collection_errors += 1


def pytest_collection_finish(session: pytest.Session) -> None:
    state = current()
    if state is not None:
        state.collected = len(session.items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    state = current()
    module = getattr(item, "module", None)
    name = module.__name__.rsplit(".", 1)[-1].removeprefix("test_") if module else "other"
    token = FAMILY.set("contract" if name == "openapi_contract" else name)
    if state is not None:
        if state.interrupts is not None:
            state.interrupts.check()
        item.stash[_REQUESTS_AT_START] = state.stats.total
        item.stash[_429_AT_START] = state.stats.rate_limited
        item.stash[_HOUSEKEEPING_AT_START] = _housekeeping()
        item.stash[_STARTED] = time.monotonic()
        state.in_test = True
    try:
        yield
    finally:
        FAMILY.reset(token)
        if state is not None:
            state.in_test = False


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Grade the outcome by the test's rule level; attach the evidence; note requests and time."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = current()
    if state is None:
        return
    grade = levels.grade_of(item)
    rules = ",".join(grade.ids)
    if report.when == "call":
        reporting.label_test(grade)
    if call.excinfo is not None and call.excinfo.errisinstance(BudgetExhausted):
        reason = str(call.excinfo.value)
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {reporting.NOT_RUN}: {reason}")
        report.user_properties.append(("stopped", reason))
        state.stopped = state.stopped or state.traffic.budget.exhausted or reason
        item.session.shouldstop = reason
    elif report.failed and report.when == "call":
        failures = fuzz_failures.failures_in(call.excinfo.value) if call.excinfo is not None else []
        if failures:  # the fuzzing tests name every rule they check; a failure names the rule it broke
            broken, report.longrepr = fuzz_failures.render(failures, state.masker)
            item.stash[_RENDERED] = report.longrepr
            rules = ",".join(broken) or rules
        if levels.is_finding(grade.level, state.strict):
            report.outcome = "skipped"
            report.wasxfail = f"{reporting.FINDING_PREFIX} [{', '.join(grade.ids)}]: {reporting.short_message(report)}"
    # Requests and 429s of this phase alone (setup, call, teardown): reports add them up per test.
    # Housekeeping (the session's cleanup and sweep, run in the last test's teardown) is counted in
    # the run's total but not charged to that test.
    requests, limited, housekeeping = state.stats.total, state.stats.rate_limited, _housekeeping()
    report.user_properties += [
        ("check_id", baseline.check_id(item.nodeid, grade.ids)),
        ("rules", rules),
        ("level", grade.level.value if grade.level else ""),
        ("requests", requests - item.stash.get(_REQUESTS_AT_START, requests)),
        ("housekeeping", housekeeping - item.stash.get(_HOUSEKEEPING_AT_START, housekeeping)),
        ("seconds", round(time.monotonic() - item.stash.get(_STARTED, time.monotonic()), 3)),
        ("rate_limited", limited - item.stash.get(_429_AT_START, limited)),
    ]
    item.stash[_REQUESTS_AT_START], item.stash[_429_AT_START] = requests, limited
    item.stash[_HOUSEKEEPING_AT_START] = housekeeping


class ModelGrading:
    """The contract model's violations, whatever the check was about, graded last of all (outermost), after
    every other plugin made its report: set-up's wait for the check itself (a set-up that ended well is followed
    by the call, graded with them); a stopped run grades nothing."""

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        state = current()
        if state is None or state._observer is None or (report.when == "setup" and report.passed):
            return
        if call.excinfo is not None and call.excinfo.errisinstance(BudgetExhausted):
            return
        violations = state.observer.take()
        if not violations:
            return
        blocked = reporting.blocked_by(report)
        if blocked and {r for v in violations for r in v.rules} <= {blocked}:
            return  # blocked by the very rule its exchanges break: that rule's own checks report it
        properties = dict(report.user_properties)
        rules = str(properties.get("rules", ""))
        own = rules.split(",") if rules else []
        if call.excinfo is not None and call.excinfo.errisinstance(ModelViolation):
            own = []  # the check stopped at the model's verdict: graded by the rules broken alone
            report.longrepr = str(call.excinfo.value)
        graded = _graded_by_model(report, violations, own, state.strict)
        level = levels.Grade(tuple(BY_ID[r] for r in graded.split(",") if r in BY_ID)).level
        report.user_properties = [(name, graded if name == "rules" else (level.value if level else "")
                                   if name == "level" else value) for name, value in report.user_properties]


def _graded_by_model(report: pytest.TestReport, violations: list[Violation], own: list[str], strict: bool) -> str:
    """Turn a check's report red with the model's violations: it fails under the rules they break — beside
    its own, when it failed (or found) on its own too — as a SHOULD finding when no MUST rule is broken."""
    broken = list(dict.fromkeys(rule_id for v in violations for rule_id in v.rules if rule_id in BY_ID))
    text = "\n".join(v.render() for v in violations[:12])
    if len(violations) > 12:
        text += f"\n… and {len(violations) - 12} more"
    text = f"contract model: {len(violations)} violation(s) in this check's exchanges\n{text}"
    finding = str(getattr(report, "wasxfail", "")).startswith(reporting.FINDING_PREFIX)
    graded = [*own, *broken] if (report.failed or finding) and own else broken
    graded = list(dict.fromkeys(graded))
    if report.failed:
        # the check's own message first (the verdict's one line), then the model's, then the traceback
        crash = getattr(report.longrepr, "reprcrash", None)
        text = (f"{crash.message}\n\n{text}\n\n{report.longrepr}" if crash is not None
                else f"{report.longrepr}\n\n{text}")
    elif finding:
        text = f"{report.wasxfail}\n\n{text}"
    if hasattr(report, "wasxfail"):
        del report.wasxfail
    report.outcome, report.longrepr = "failed", text
    if levels.is_finding(levels.Grade(tuple(BY_ID[r] for r in graded if r in BY_ID)).level, strict):
        report.outcome = "skipped"
        report.wasxfail = f"{reporting.FINDING_PREFIX} [{', '.join(graded)}]: {violations[0].render()[:300]}"
    return ",".join(graded)


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Schemathesis puts its own rendering back here; the reader gets ours (check, rule, request, response)."""
    rendered = node.stash.get(_RENDERED, None) if isinstance(node, pytest.Item) else None
    if rendered is not None and report.when == "call":
        report.longrepr = rendered


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs where results are gathered (the controller under xdist): one verdict per check."""
    state = current()
    if state is not None:
        reporting.collect(state, report)


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """A signal (not pytest's own stop after collection errors or a budget stop, which it raises the same way)."""
    state = current()
    if state is None or isinstance(excinfo.value, pytest.Session.Interrupted):
        return
    if state.interrupts is not None:
        state.interrupts.acknowledge()
    if state.stopped:
        return
    name = str(excinfo.value) if str(excinfo.value) in ("SIGINT", "SIGTERM") else "SIGINT"
    state.stopped = f"interrupted ({name})"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = current()
    if state is None or _is_worker(config):
        return
    reporting.terminal_summary(terminalreporter, state, config,
                               state.exit_status if state.exit_status is not None else int(exitstatus))


class XdistHooks:
    """The controller's side of an xdist run: hand the target to each worker, gather its counts."""

    def __init__(self, handoff: dict[str, Any] | None, workers: list[int]) -> None:
        self.handoff = handoff
        self.workers = workers  # the pids a SIGTERM is passed on to

    def pytest_configure_node(self, node: Any) -> None:
        if self.handoff is not None:
            node.workerinput["cstar"] = self.handoff
        popen = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)  # execnet's local worker
        if popen is not None:
            self.workers.append(int(popen.pid))

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        state = current()
        if state is not None:
            state.collected = max(state.collected, len(ids))

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        state = current()
        output = getattr(node, "workeroutput", None) or {}
        if state is None:
            return
        if "cstar_stats" in output:
            state.workers_stats.merge(output["cstar_stats"])
        if output.get("cstar_stopped") and not state.stopped:
            state.stopped = output["cstar_stopped"]
        state.left_behind += output.get("cstar_left_behind", [])
