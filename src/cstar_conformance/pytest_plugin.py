"""pytest wiring of the library: options, target start and preflight, levels, reports.

Active only when the session runs the conformance suites (paths under `suites/`); the project's
own tests in `tests/` load it inert.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cstar_conformance import contract, levels, reporting
from cstar_conformance.client import Throttle
from cstar_conformance.factory import new_run_id
from cstar_conformance.session import FAMILY, Session, current, set_current
from cstar_conformance.target import (
    EXIT_USAGE,
    EmbeddedReference,
    PreflightError,
    Target,
    Team,
    check_production,
    preflight,
    validate_options,
)

PROFILES = ("smoke", "gate", "thorough")
ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
REPORTS = ROOT / "reports"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cstar", "cStar Customers API conformance")

    def add(name: str, env: str | None, help: str, **kw: Any) -> None:
        default = os.environ.get(env) if env else None
        group.addoption(name, default=kw.pop("default", default), help=help + (f" [env {env}]" if env else ""),
                        **kw)

    add("--api-key", "CSTAR_API_KEY", "secret API key of the team under test (sk_test_…)")
    add("--team-id", "CSTAR_TEAM_ID", "team id (UUID) under test")
    add("--other-team-id", "CSTAR_OTHER_TEAM_ID", "a second team, for tenant-isolation tests")
    add("--other-api-key", "CSTAR_OTHER_API_KEY", "secret key of the second team")
    add("--publishable-key", "CSTAR_PUBLISHABLE_KEY", "publishable key (pk_…) of the team, optional")
    add("--webhook-public-url", "CSTAR_WEBHOOK_PUBLIC_URL",
        "public URL that forwards to the suite's webhook receiver (remote targets)")
    add("--profile", "CSTAR_PROFILE", "smoke | gate | thorough (default gate)", choices=PROFILES)
    add("--seed", "CSTAR_SEED", "Hypothesis seed (default: fixed for gate, printed)")
    add("--spec", "CSTAR_SPEC", "the OpenAPI contract to fuzz with (default openapi/customers.yaml)")
    add("--max-rps", "CSTAR_MAX_RPS", "throttle the suite's own client to N requests per second")
    add("--sweep-older-than", "CSTAR_SWEEP_OLDER_THAN",
        "minutes after which records of earlier, interrupted runs are swept (default 10)")
    group.addoption("--allow-production", action="store_true", default=False,
                    help="allow destructive tests against a production host or an sk_live_ key")
    group.addoption("--reference-fault", action="append", default=[],
                    help="(self-tests) start the embedded reference with this fault switch; repeatable")
    group.addoption("--reference-arg", action="append", default=[],
                    help="(self-tests) extra argument for the embedded reference, e.g. --reference-arg=--rate-limit=40")
    group.addoption("--reference-variant", default="clean",
                    help="(self-tests) embedded reference variant: clean | alt")
    group.addoption("--cstar-run-id", default=None, help="(internal) run id shared with xdist workers")
    parser.addini("cstar_reports_dir", "where junit.xml, allure-results and summary.json go", default="reports")


def suite_selected(config: pytest.Config) -> bool:
    """True when this pytest session runs the conformance suites."""
    for arg in config.args:
        path = Path(str(arg).split("::")[0])
        path = (Path(config.invocation_params.dir) / path).resolve()
        if path == SUITES or SUITES in path.parents:
            return True
    return False


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): the contract rule ids a test checks (see rules.py)")
    config.addinivalue_line("markers", "needs(*capabilities): other_team, publishable_key, tickets, webhooks")
    if not suite_selected(config):
        return
    if getattr(config.option, "dist", "no") == "load":
        # Module fixtures (seeded datasets, a webhook registration) and file order belong together.
        config.option.dist = "loadfile"
    reports = Path(config.invocation_params.dir) / config.getini("cstar_reports_dir")
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(reports / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(reports / "allure-results")
        config.option.clean_alluredir = True


def _build_session(config: pytest.Config) -> Session:
    opt = config.option
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    base_url = config.getoption("base_url", None) or None
    validate_options(base_url, opt.api_key, opt.team_id, opt.other_team_id, opt.other_api_key)
    spec_path = Path(opt.spec).resolve() if opt.spec else ROOT / "openapi" / "customers.yaml"
    contract.check_spec(spec_path)
    try:
        max_rps = float(opt.max_rps or 0)
        sweep_minutes = float(opt.sweep_older_than) if opt.sweep_older_than not in (None, "") else 10.0
        seed = int(opt.seed) if opt.seed not in (None, "") else 20261127
    except ValueError as exc:
        raise PreflightError(f"malformed option value: {exc}", EXIT_USAGE) from None
    embedded = None
    if base_url:
        other = Team(opt.other_team_id, opt.other_api_key) if opt.other_team_id else None
        target = Target(base_url.rstrip("/"), Team(opt.team_id, opt.api_key, opt.publishable_key), other,
                        webhook_public_url=opt.webhook_public_url, description=base_url)
    else:
        embedded = EmbeddedReference(opt.reference_fault, opt.reference_variant, opt.reference_arg)
        embedded.start()
        target = embedded.target(opt.webhook_public_url)
    # Each xdist worker gets its own data namespace under the run id, so workers never collide.
    run_id = (opt.cstar_run_id or new_run_id()) + worker
    session = Session(target=target, run_id=run_id, strict=bool(opt.strict),
                      profile=opt.profile or "gate", seed=seed, allow_production=opt.allow_production,
                      sweep_minutes=sweep_minutes, spec_path=spec_path, throttle=Throttle(max_rps),
                      embedded=embedded, evidence=reporting.exchange_step)
    return session


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Start the target and run the preflight before pytest starts its session, so that a dead URL,
    a refused key or a malformed option ends the run at once with one line and its own status."""
    if (not suite_selected(config) or _is_worker(config) or config.option.help or config.option.version
            or config.option.collectonly):
        return None
    try:
        state = _build_session(config)
        set_current(state)
        check_production(state.target, state.allow_production)
        preflight(state.target)
    except PreflightError as error:
        state = current()
        if state and state.embedded:
            state.embedded.stop()
        set_current(None)
        sys.stderr.write(f"cstar: {error}\n")
        return error.exit_status
    # xdist workers receive config.option: hand them the running target and the run id.
    config.option.cstar_run_id = state.run_id
    if state.embedded:
        t = state.target
        config.option.base_url = t.base_url
        config.option.api_key, config.option.team_id = t.team.api_key, t.team.id
        config.option.publishable_key = t.team.publishable_key
        if t.other_team:
            config.option.other_team_id, config.option.other_api_key = t.other_team.id, t.other_team.api_key
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if suite_selected(config) and _is_worker(config):
        # The controller started the target and ran the preflight; it passed us the options.
        set_current(_build_session(config))


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = current()
    if state is None:
        return []
    return [f"cstar target: {state.target.description} — run {state.run_id}, profile {state.profile}, "
            f"seed {state.seed}{', strict' if state.strict else ''}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if current() is None:
        return
    for item in items:
        try:
            levels.grade_of(item)
        except KeyError as exc:
            raise pytest.UsageError(f"{item.nodeid}: {exc}") from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    state = current()
    token = FAMILY.set(item.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
                       if getattr(item, "module", None) else "other")
    if state is not None:
        item.stash[_REQUESTS_AT_START] = state.stats.total
        item.stash[_429_AT_START] = state.stats.rate_limited
        item.stash[_HOUSEKEEPING_AT_START] = state.stats.by_family["cleanup"] + state.stats.by_family["sweep"]
        item.stash[_STARTED] = time.monotonic()
        state.in_test = True
    try:
        yield
    finally:
        FAMILY.reset(token)
        if state is not None:
            state.in_test = False


_REQUESTS_AT_START = pytest.StashKey[int]()
_429_AT_START = pytest.StashKey[int]()
_HOUSEKEEPING_AT_START = pytest.StashKey[int]()
_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Grade the outcome by the test's rule level; attach the evidence; note requests and time."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = current()
    if state is None:
        return
    grade = levels.grade_of(item)
    if report.when == "call":
        reporting.label_test(grade)
    if report.failed and report.when == "call" and levels.is_finding(grade.level, state.strict):
        report.outcome = "skipped"
        report.wasxfail = f"{reporting.FINDING_PREFIX} [{', '.join(grade.ids)}]: {reporting.short_message(report)}"
    # Requests and 429s of this phase alone (setup, call, teardown): reports add them up per test.
    # Housekeeping (the session's cleanup and sweep, run in the last test's teardown) is counted in
    # the run's total but not charged to that test.
    requests, limited = state.stats.total, state.stats.rate_limited
    housekeeping = state.stats.by_family["cleanup"] + state.stats.by_family["sweep"]
    report.user_properties += [
        ("rules", ",".join(grade.ids)),
        ("level", grade.level.value if grade.level else ""),
        ("requests", requests - item.stash.get(_REQUESTS_AT_START, requests)),
        ("housekeeping", housekeeping - item.stash.get(_HOUSEKEEPING_AT_START, housekeeping)),
        ("seconds", round(time.monotonic() - item.stash.get(_STARTED, time.monotonic()), 3)),
        ("rate_limited", limited - item.stash.get(_429_AT_START, limited)),
    ]
    item.stash[_REQUESTS_AT_START], item.stash[_429_AT_START] = requests, limited
    item.stash[_HOUSEKEEPING_AT_START] = housekeeping


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Runs where results are gathered (the controller under xdist): one verdict per test."""
    state = current()
    if state is not None:
        reporting.collect(state, report)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = current()
    if state is None or _is_worker(config):
        return
    reporting.terminal_summary(terminalreporter, state, config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = current()
    if state is not None and state.created:  # made at import time, and the factory never took them over
        client = state.client(state.target.team.api_key)
        for kind, record_id in state.created:
            client.delete(f"/{kind}s/{record_id}")
        client.close()
        state.created.clear()
    if state is not None and not _is_worker(session.config):
        reports = Path(session.config.invocation_params.dir) / session.config.getini("cstar_reports_dir")
        reporting.write_summary(state, reports / "summary.json", exitstatus)
        allure_dir = getattr(session.config.option, "allure_report_dir", None)
        if allure_dir:
            reporting.write_environment(state, Path(allure_dir))


def pytest_unconfigure(config: pytest.Config) -> None:
    state = current()
    if state is not None and state.embedded:
        state.embedded.stop()
    set_current(None)
