"""The kill test of a mutant: the conformance suite, as users run it (`pytest suites …` in a subprocess),
against the embedded reference started from a private copy of the package that holds the mutant.

The copy is a small tree laid out like the repository (``src/cstar_conformance`` and ``suites`` copied,
``pyproject.toml`` copied, ``openapi`` linked), the suite runs in it and its ``src``
comes first on ``PYTHONPATH``: the pytest process and the reference server it starts both import the
copy (the pytest process only uses the reference's start-up code, which is never mutated). Nothing in
the working tree is touched, so mutants run in parallel.

A legal mode is one of the mutation run's green runs (:data:`mutants.GREEN_RUNS`): the mutant is run
against the mode whose clean run executes its line (see :mod:`.mutation_coverage`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cstar_conformance.exits import EXIT_BUDGET, EXIT_CREDENTIALS, EXIT_UNREACHABLE
from cstar_conformance.selfcheck.mutants import GREEN_RUNS, RED, ROOT

# The modes a mutant can be run against, cheapest first: the first one whose run reaches a line runs it.
MODES = ("clean", "edge", "alt", "rate-limited", "below-should")
SUITES = {"all": ("suites",), "scenarios": ("suites/scenarios",)}
# The gate's statuses for a server that started but that it refuses to judge further: it fails the preflight
# (answers no JSON API, refuses the key) or answers 429 without end. The gate does not pass it: a kill.
REFUSED = {EXIT_UNREACHABLE: "preflight", EXIT_CREDENTIALS: "preflight", EXIT_BUDGET: "budget exhausted"}
DID_NOT_START = "the embedded reference did not start"


# pytest plugins installed in the environment that a suite run does not need: they only cost start-up time
# (the scenarios never use Hypothesis or Schemathesis, whose imports alone take ~3 s of a ~5 s start).
# The suite's own plugin, pytest-timeout and pytest-base-url stay.
IDLE_PLUGINS = ("xdist", "xdist.looponfail", "pytest-split", "pytest_httpserver", "anyio", "platformdirs",
                "allure_pytest")
FUZZ_PLUGINS = ("schemathesis", "hypothesispytest")


@dataclass(frozen=True)
class SuiteOptions:
    profile: str = "gate"
    suite: str = "all"  # a key of SUITES
    timeout: float = 300.0  # a run that takes longer is stopped: outcome `timeout`
    first_failure: bool = True  # -x: a killed mutant needs one red check, not all of them
    lean: bool = False  # leave out the plugins the run does not need (IDLE_PLUGINS, and the fuzzer's for scenarios)
    paths: tuple[str, ...] = ()  # run these test paths or node ids instead of the suites

    def plugin_args(self) -> list[str]:
        if not self.lean:
            return []
        idle = IDLE_PLUGINS + (FUZZ_PLUGINS if self.suite == "scenarios" else ())
        return [arg for name in idle for arg in ("-p", f"no:{name}")]


@dataclass
class Verdict:
    """What one suite run says about the server it ran against."""

    outcome: str  # green | red | not-viable | timeout
    seconds: float
    status: int | None
    red: list[str] = field(default_factory=list)  # the red checks (test [verdict])
    detail: str = ""


@contextmanager
def package_copy(source: Path = ROOT, prefix: str = "cstar-mutant-") -> Iterator[Path]:
    """A private copy of the package and the suites of the tree at `source` (the repository, or a copy of
    it), laid out like the repository (yielded: its root). The suites are copied, not linked: the plugin
    knows a suite run by its path under its own root. A run first copies the working tree once and makes
    every mutant's copy from that, so editing the working tree meanwhile changes nothing in the run."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        skip = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source / "src" / "cstar_conformance", root / "src" / "cstar_conformance", ignore=skip)
        shutil.copytree(source / "suites", root / "suites", ignore=skip)
        for name in ("conftest.py", "pyproject.toml"):  # a root conftest.py only where the tree has one
            if (source / name).exists():
                shutil.copy2(source / name, root / name)
        (root / "openapi").symlink_to(ROOT / "openapi", target_is_directory=True)
        yield root


def suite_command(mode: str, options: SuiteOptions, reports: Path) -> list[str]:
    green = GREEN_RUNS[mode]
    return [sys.executable, "-m", "pytest", *(options.paths or SUITES[options.suite]), "-q", "-p", "no:cacheprovider",
            *(["-x"] if options.first_failure else []), *options.plugin_args(), "-o", f"cstar_reports_dir={reports}",
            "--profile", options.profile, "--reference-variant", green.variant, *green.args]


def run_suite(mode: str, options: SuiteOptions, root: Path = ROOT, pythonpath: tuple[Path, ...] = (),
              env: Mapping[str, str] | None = None) -> Verdict:
    """Run the suite in `mode` in the tree at `root` (the repository or a copy; a copy's ``src`` goes first
    on the path, then `pythonpath`); judge the run (see `judge`)."""
    with tempfile.TemporaryDirectory(prefix="cstar-mutation-reports-") as reports:
        environment = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
        first = ([root / "src"] if root != ROOT else []) + list(pythonpath)
        if first:
            environment["PYTHONPATH"] = os.pathsep.join(
                p for p in (*map(str, first), environment.get("PYTHONPATH", "")) if p)
        started = time.monotonic()
        process = subprocess.Popen(suite_command(mode, options, Path(reports)), cwd=root, env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)  # its own process group: the server goes with it
        try:
            output, _ = process.communicate(timeout=options.timeout)
        except subprocess.TimeoutExpired:
            _stop_group(process)
            return Verdict("timeout", round(time.monotonic() - started, 1), None,
                           detail=f"no verdict within {options.timeout:.0f} s")
        seconds = round(time.monotonic() - started, 1)
        summary_path = Path(reports) / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        return judge(mode, process.returncode, summary, output, seconds)


def red_nodes(red: list[str]) -> tuple[str, ...]:
    """The test node ids of red checks (`test [verdict]`); Schemathesis' generated items by their file."""
    nodes = [entry.rsplit(" [", 1)[0] for entry in red if "::" in entry]
    return tuple(dict.fromkeys(node.split("::")[0] if node.startswith("suites/contract/") else node
                               for node in nodes))


def confirm(mode: str, options: SuiteOptions, root: Path, verdict: Verdict) -> Verdict:
    """A red verdict whose red checks are red again when run alone (a loaded machine makes timing checks
    flaky: a red that does not come back is the machine's, not the mutant's). Preflight refusals stand."""
    nodes = red_nodes(verdict.red)
    if verdict.outcome != "red" or not nodes:
        return verdict
    again = run_suite(mode, replace(options, paths=nodes, first_failure=False), root)
    if again.outcome == "red":
        return verdict
    return Verdict("green", round(verdict.seconds + again.seconds, 1), verdict.status,
                   detail=f"red check not reproduced when run alone: {', '.join(verdict.red[:2])}")


def _stop_group(process: subprocess.Popen[str]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.communicate(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def judge(mode: str, status: int, summary: dict[str, Any], output: str, seconds: float) -> Verdict:
    """green: exit 0 and no red check but the one finding the mode must raise; red: the gate fails the
    server (exit 1 or a red check, or a server that started is refused by the preflight or answers 429 without
    end); not-viable: the reference never became ready, or the run could not start at all."""
    tail = " | ".join(line.strip() for line in output.strip().splitlines()[-6:])[-400:]
    expected = GREEN_RUNS[mode].expected_finding
    red = [f"{c['test']} [{c['verdict']}]" for c in summary.get("checks", []) if c["verdict"] in RED
           and not (expected and c["verdict"] == "finding" and expected in c["rules"])]
    if summary and status in (0, 1):
        return Verdict("red" if status == 1 or red else "green", seconds, status, red)
    if DID_NOT_START in output:
        return Verdict("not-viable", seconds, status, detail=tail)
    if status in REFUSED:
        return Verdict("red", seconds, status, [f"{REFUSED[status]} (exit {status})"], detail=tail)
    return Verdict("not-viable", seconds, status, detail=tail)


def imported_from(root: Path) -> str:
    """Where a process run in the copy at `root` imports the reference from (a proof the copy is used)."""
    probe = "import cstar_conformance.reference.app as m; print(m.__file__)"
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=root,
                          timeout=60).stdout.strip()
