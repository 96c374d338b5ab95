"""The suite's pytest plugin, installed with the package (entry point `pytest11: cstar`), so that its
options exist wherever pytest starts and whatever the argument order.

Inert unless the session runs the conformance suites (paths under `suites/`): the project's own tests
and any other pytest session only see the options. For a suite session it takes the reports folder,
checks the options, starts the target and runs the preflight before pytest's own session — any
problem ends the run at once with one line and its own exit status — and then registers the fixtures
(`fixtures.py`) and the grading hooks (`grading.py`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from cstar_conformance import options, rootdir
from cstar_conformance.exits import EXIT_BUDGET, EXIT_INTERRUPTED, StopRun
from cstar_conformance.session import current, set_current

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
# Sessions that list or explain rather than run: the plugin leaves the reports folder alone.
_NOT_A_RUN = ("help", "version", "collectonly", "showfixtures", "show_fixtures_per_test", "markers", "setupplan")

_run: Any = None  # this process's lifecycle.Run, from the first hook that knows the session runs the suites


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def _under_suites(paths: list[str], invocation_dir: Path) -> bool:
    for arg in paths:
        path = (invocation_dir / str(arg).split("::")[0]).resolve()
        if path == SUITES or SUITES in path.parents:
            return True
    return False


def suite_selected(config: pytest.Config) -> bool:
    """True when this pytest session runs the conformance suites."""
    return _under_suites([str(a) for a in config.args], Path(config.invocation_params.dir))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _not_a_run(namespace: Any) -> bool:
    return any(getattr(namespace, name, False) for name in _NOT_A_RUN)


def _begin(config: pytest.Config, namespace: Any) -> None:
    from cstar_conformance.lifecycle import Run
    from cstar_conformance.runfolder import RunFolder

    global _run
    folder = options.reports_dir(namespace, os.environ, str(config.getini("cstar_reports_dir")),
                                 Path(config.invocation_params.dir))
    _run = Run(RunFolder(folder))
    _run.begin()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """The earliest moment a suite session is known (and the rootdir can be put back where the command as
    typed means it, `rootdir.py`): take the folder and mark the run incomplete, so that even a session that
    dies while pytest parses its arguments never leaves the last verdict."""
    rootdir.repair(early_config, args)
    namespace = early_config.known_args_namespace
    if os.environ.get("PYTEST_XDIST_WORKER") or _not_a_run(namespace) or _run is not None:
        return  # an xdist worker (the controller holds the folder), or not a run
    invocation = Path(early_config.invocation_params.dir)
    paths = list(getattr(namespace, "file_or_dir", None) or [])
    if not paths:
        paths = list(early_config.getini("testpaths") or []) if invocation == early_config.rootpath else ["."]
    if _under_suites(paths, invocation):
        _begin(early_config, namespace)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """Check options, start the target and run the preflight before pytest starts its session, so that
    a malformed option, a dead URL or a refused key ends the run at once with one line and its status."""
    if not suite_selected(config) or _is_worker(config) or _not_a_run(config.option):
        return None
    from cstar_conformance.traffic import BudgetExhausted

    if _run is None:
        _begin(config, config.option)
    run = _run
    if run.refused is not None:
        sys.stderr.write(f"cstar: {run.refused}\n")
        return run.refused.exit_status
    secrets: list[str] = []
    try:
        opts = options.resolve(config.option, list(config.invocation_params.args), os.environ,
                               str(config.getini("base_url") or ""), str(config.getini("cstar_reports_dir")),
                               Path(config.invocation_params.dir))
        secrets = [k for k in (opts.api_key, opts.other_api_key, opts.publishable_key) if k]
        run.start(opts)
    except StopRun as error:
        return run.stop_before_tests(str(error), error.exit_status, secrets)
    except BudgetExhausted as error:
        return run.stop_before_tests(str(error), EXIT_BUDGET, secrets)
    except KeyboardInterrupt:
        return run.stop_before_tests(f"interrupted during start-up ({run.interrupts.first or 'SIGINT'})",
                                     EXIT_INTERRUPTED, secrets)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): the contract rule ids a test checks (see rules.py)")
    config.addinivalue_line("markers", "needs(*capabilities): other_team, publishable_key, tickets, webhooks")
    config.addinivalue_line("markers", "thorough(why): a variant the thorough profile adds; `why` names the checks "
                                       "that keep its rule and its bug class in the gate")
    if not suite_selected(config):
        return
    from cstar_conformance import fixtures, grading

    for plugin, name in ((fixtures, "cstar-fixtures"), (grading, "cstar-grading")):
        if not config.pluginmanager.is_registered(plugin):
            config.pluginmanager.register(plugin, name)
    if not config.pluginmanager.has_plugin("cstar-model"):
        config.pluginmanager.register(grading.ModelGrading(), "cstar-model")
    if getattr(config.option, "dist", "no") == "load":
        # Module fixtures (seeded datasets, a webhook registration) and file order belong together.
        config.option.dist = "loadfile"
    if _not_a_run(config.option):
        return  # listing or explaining: no reports
    if _is_worker(config):
        folder = Path(config.workerinput.get("cstar", {}).get("reports_dir", "reports"))  # type: ignore[attr-defined]
    else:
        folder = _run.folder.path if _run is not None else Path(config.invocation_params.dir) / "reports"
        if config.pluginmanager.hasplugin("xdist"):
            hooks = grading.XdistHooks(_run.handoff if _run else None, _run.interrupts.workers if _run else [])
            config.pluginmanager.register(hooks, "cstar-xdist")
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(folder / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(folder / "allure-results")
        config.option.clean_alluredir = False  # the run cleared the previous results itself


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if _run is not None:
        _run.interrupts.quiet_unraisable()  # in front of the hook pytest installed when it configured
    if suite_selected(config) and hasattr(config, "workerinput") and "cstar" in config.workerinput:
        from cstar_conformance.lifecycle import worker_session

        workerinput = config.workerinput
        set_current(worker_session(workerinput["cstar"], workerinput.get("workerid", ""),
                                   int(workerinput.get("workercount", 1))))


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = current()
    if state is None:
        return []
    budget = state.traffic.budget.max_requests
    return [f"cstar target: {state.target.description} — run {state.run_id}, profile {state.profile}, "
            f"seed {state.seed}, at most {budget} requests{', strict' if state.strict else ''}"]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After every fixture is torn down (the run's cleanup included): the verdict, in summary.json."""
    state = current()
    if state is None:
        return
    try:
        if state.created and not (state.stopped and state.target.embedded):
            client = state.client(state.target.team.api_key)  # the fuzzing anchor, if no factory took it
            for kind, record_id in state.created:
                client.delete(f"/{kind}s/{record_id}")
            client.close()
            state.created.clear()
    except Exception:  # noqa: BLE001 - best effort; the audit of a later run finds what is left
        pass
    except BaseException as stop:  # a budget stop or Ctrl-C: the verdict below says the run is incomplete
        state.stopped = state.stopped or str(stop) or "interrupted"
    config = session.config
    if _is_worker(config):
        config.workeroutput["cstar_stats"] = state.stats.as_dict()  # type: ignore[attr-defined]
        config.workeroutput["cstar_stopped"] = state.stopped  # type: ignore[attr-defined]
        config.workeroutput["cstar_left_behind"] = state.left_behind  # type: ignore[attr-defined]
        return
    if _run is None:
        return
    allure_dir = getattr(config.option, "allure_report_dir", None)
    try:
        session.exitstatus = _run.finish(state, int(session.exitstatus), Path(allure_dir) if allure_dir else None)
    except KeyboardInterrupt:
        state.stopped = state.stopped or "interrupted (while writing the verdict)"
        session.exitstatus = _run.finish(state, EXIT_INTERRUPTED, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _run
    state = current()
    if state is not None and state.embedded:
        state.embedded.stop()
    if _run is not None and not _is_worker(config):
        _run.stop_embedded()
        _run.end()
        _run = None
    set_current(None)
