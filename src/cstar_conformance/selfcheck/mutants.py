"""The mutation run: the suite against the reference's legal modes (which must be green) and against each
fault switch (which must be caught). A fault counts as caught only when a check of a rule it breaks
goes red (a MUST failure or a SHOULD finding); other red checks are shown as collateral.

Each fault runs only the scenario checks that name one of its rules (from pytest's own collection),
without the plugins those checks never use (the fuzzer's among them): that is all the verdict needs, and
it keeps the run within `make test`'s time. The fuzzing suite is proven able to fail by the faults of
FUZZ_PROOF, whose runs keep it and count as caught only when a Schemathesis check of their rule goes red;
the green runs run it whole. `--whole-suite` runs every check for every fault (collateral included);
faults whose checks need the whole run's traffic always do.

Green runs (always the whole suite): `clean`; `alt` and `edge` rate-limited (40 requests per second per
key), so that between them and the rate-limited `clean` run every Retry-After alternative is met by a run
that sees 429s; and
`below-should` (`--may customfields-patch=replace`, a legal choice below a SHOULD), which must end with
exit 0 and exactly one finding, of PATCH-CUSTOMFIELDS-MERGE.

    python -m cstar_conformance.selfcheck.mutants [--jobs 3] [--profile gate] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cstar_conformance.reference.faults import FAULTS

ROOT = Path(__file__).resolve().parents[3]
RED = ("failed", "error", "finding")
RATE_LIMITED = ("--reference-arg=--rate-limit=40", "--reference-arg=--rate-window=1")


@dataclass(frozen=True)
class GreenRun:
    """A legal server the suite must pass."""

    variant: str
    args: tuple[str, ...] = ()
    sees_429: bool = False  # the run must meet 429s (else the Retry-After alternative went untested)
    expected_finding: str | None = None  # the one SHOULD rule a legal-but-below-SHOULD choice must raise


GREEN_RUNS: dict[str, GreenRun] = {
    "clean": GreenRun("clean"),
    "alt": GreenRun("alt", RATE_LIMITED, sees_429=True),  # Retry-After header only
    "edge": GreenRun("edge", RATE_LIMITED, sees_429=True),  # error.retryAfter only
    "rate-limited": GreenRun("clean", RATE_LIMITED, sees_429=True),  # both
    "below-should": GreenRun("clean", ("--reference-arg=--may=customfields-patch=replace",),
                             expected_finding="PATCH-CUSTOMFIELDS-MERGE"),
}
# Faults that only show under a server setting. The 429 fault needs 429s for sure, also when a loaded
# machine keeps the suite below 40 requests per second: a tighter limit.
FAULT_ARGS: dict[str, tuple[str, ...]] = {
    "rate-limit-no-retry-after": ("--reference-arg=--rate-limit=15", "--reference-arg=--rate-window=1"),
    "rate-limit-after-handler": ("--reference-arg=--rate-limit=15", "--reference-arg=--rate-window=1"),
    # faults that need more tickets than a gate sends: the thorough profile's check of 130 tickets
    "cascade-one-batch-of-50": ("--profile", "thorough"),
    "ticketcount-tinyint": ("--profile", "thorough"),
    # a total capped at 100 shows only with more than 100 live records of the run: thorough's check of a search
    # past 100 matches tops the run's records up to 101 (about 200 requests: never on a gate's budget)
    "total-capped-100": ("--profile", "thorough"),
    # the fuzzing's proof: thorough's examples, so that the fuzzer meets the malformed values by itself
    "malformed-id-500": ("--profile", "thorough"),
    "timestamps-naive": ("--profile", "thorough"),
    "auth-missing-key-allowed": ("--profile", "thorough"),
}
# Faults the suite does not probe, by design, with the reason (not counted as caught nor as missed).
NOT_PROBED: dict[str, str] = {
    "collection-delete-bulk": "the suite never sends DELETE to a collection: on a target with this bug it would "
                              "delete every customer of the team on a shared staging (hostile.NEVER_ON_COLLECTION)",
}
# Faults whose checks grade what the whole run met (the 429s of every other check's traffic).
WHOLE_SUITE: frozenset[str] = frozenset({"rate-limit-no-retry-after"})
# Faults whose runs keep the fuzzing suite (suites/contract) and must be caught by it: a 5xx on a malformed
# id (NO-5XX), timestamps without a zone (the response schema), a request without a key let through (AUTH).
FUZZ_PROOF: frozenset[str] = frozenset({"malformed-id-500", "timestamps-naive", "auth-missing-key-allowed"})
FUZZ_SUITE = "suites/contract/"
EXPLORATION = "suites/exploration/"
# pytest plugins the scenario checks never use: leaving them out saves ~3 s of start-up per run.
SCENARIO_IDLE_PLUGINS = ("xdist", "xdist.looponfail", "pytest-split", "pytest_httpserver", "anyio",
                         "allure_pytest", "schemathesis", "hypothesispytest")


def selections(faults: list[Any]) -> dict[str, list[str]]:
    """Fault name → the node ids of the checks naming one of its rules (pytest's own collection)."""
    from cstar_conformance.selfcheck.trace import collect_tests

    by_rule = collect_tests()
    chosen = {}
    for fault in faults:
        # Schemathesis' generated items cannot be selected one by one: their file is selected instead.
        ids = sorted({node.split("::")[0] if node.startswith(FUZZ_SUITE) else node
                      for rule in fault.rules for node in by_rule.get(rule, [])
                      if fault.name in FUZZ_PROOF or not node.startswith(FUZZ_SUITE)})
        if not ids:
            raise SystemExit(f"fault {fault.name}: no check names its rules {', '.join(fault.rules)}")
        chosen[fault.name] = ids
    return chosen


def lean_args(checks: list[str] | None) -> list[str]:
    """Leave out the plugins a run of scenario checks only never uses."""
    if checks is None or any(check.startswith(FUZZ_SUITE) for check in checks):
        return []
    return [arg for name in SCENARIO_IDLE_PLUGINS for arg in ("-p", f"no:{name}")]


@dataclass
class Run:
    name: str  # a green run's name or the fault's name
    rules: list[str]  # the fault's rules, or the expected finding's
    exit_status: int
    seconds: float
    requests: int
    rate_limited: int = 0
    detected_by: list[str] = field(default_factory=list)  # red checks of the fault's own rules
    collateral: list[str] = field(default_factory=list)  # other red checks
    problem: str = ""

    @property
    def green(self) -> GreenRun | None:
        return GREEN_RUNS.get(self.name)

    @property
    def ok(self) -> bool:
        if self.problem:
            return False
        green = self.green
        if green is None:
            if self.name in FUZZ_PROOF:
                return any(check.startswith(FUZZ_SUITE) for check in self.detected_by)
            return bool(self.detected_by)
        if green.sees_429 and not self.rate_limited:
            return False
        # below the SHOULD: that one finding (in every check whose exchanges show it, the contract model's included)
        found_as_wanted = bool(self.detected_by) if green.expected_finding else not self.detected_by
        return self.exit_status == 0 and not self.collateral and found_as_wanted


def run_suite(args: list[str], reports: Path, timeout: float = 300,
              checks: list[str] | None = None) -> tuple[int, dict[str, Any], float, str]:
    """Run the conformance suite (or only `checks`, node ids) in a subprocess; return (exit status,
    summary.json, seconds, output tail)."""
    cmd = [sys.executable, "-m", "pytest", *(checks or ["suites"]), "-q", "-p", "no:cacheprovider",
           "-o", f"cstar_reports_dir={reports}", *args]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    seconds = time.monotonic() - started
    summary_path = reports / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
    return proc.returncode, summary, seconds, tail


def evaluate(name: str, rules: list[str], status: int, summary: dict[str, Any], seconds: float,
             tail: str) -> Run:
    requests = summary.get("requests", {})
    run = Run(name, rules, status, round(seconds, 1), int(requests.get("total", 0)),
              int(requests.get("rate_limited", 0)))
    if not summary:
        run.problem = f"no summary.json (exit {status}): {tail[-300:]}"
        return run
    green = GREEN_RUNS.get(name)
    for check in summary.get("checks", []):
        if check["verdict"] not in RED:
            continue
        label = f"{check['test']} [{check['verdict']}]"
        own_rule = bool(set(check["rules"]) & set(rules))
        if green is not None:  # a legal server: only the one expected finding may be red
            own_rule = own_rule and check["verdict"] == "finding"
        (run.detected_by if own_rule else run.collateral).append(label)
    return run


def mutate(name: str, faults: list[str], variant: str, rules: list[str], extra: list[str],
           checks: list[str] | None = None) -> Run:
    """One run against the reference with `faults`. A fault's run goes in two stages: its rules' own checks
    first (the contract model judges their every answer), then — only if those stayed green — the whole suite,
    whose every other check the model judges too (a fault of one rule often shows in a check of another: it is
    caught when some check goes red under the fault's rule)."""
    own = [c for c in checks if not c.startswith(EXPLORATION)] if checks is not None else None
    stages = [own, None] if own else [None]
    spent = 0.0
    for stage in stages:
        with tempfile.TemporaryDirectory(prefix=f"mutant-{name}-") as tmp:
            args = [*extra, "--reference-variant", variant]
            for fault in faults:
                args += ["--reference-fault", fault]
            status, summary, seconds, tail = run_suite(args, Path(tmp), checks=stage)
            spent += seconds
            run = evaluate(name, rules, status, summary, spent, tail)
        if run.ok:
            break
    return run


def table(runs: list[Run]) -> str:
    lines = [f"{'run / fault':38} {'rules':34} {'verdict':9} {'s':>5} {'req':>5}  detected by"]
    for run in runs:
        verdict = ("green" if run.ok else "RED") if run.green else ("caught" if run.ok else "MISSED")
        first = run.detected_by[0] if run.detected_by else (run.collateral[0] if run.collateral else "")
        first = first.replace("suites/scenarios/", "").replace("suites/contract/", "")
        extra = len(run.detected_by) - 1 + (len(run.collateral) if run.detected_by else len(run.collateral) - 1)
        if extra > 0:
            first += f" (+{extra})"
        if run.green and run.green.sees_429:
            first = f"429 seen: {run.rate_limited}" + (f"; {first}" if first else "")
        if run.problem:
            first = run.problem[:120]
        lines.append(f"{run.name[:38]:38} {','.join(run.rules)[:34]:34} {verdict:9} {run.seconds:5.1f} "
                     f"{run.requests:5d}  {first}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=3, help="suite runs in parallel (default 3)")
    parser.add_argument("--profile", default="gate", help="suite profile for the fault runs (default gate)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only these faults or green runs (clean, alt, edge, rate-limited, below-should)")
    parser.add_argument("--whole-suite", action="store_true",
                        help="run every check against every fault (slower; shows collateral)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "mutants.json"))
    options = parser.parse_args(argv)
    unknown = set(options.only) - set(GREEN_RUNS) - {f.name for f in FAULTS}
    if unknown:
        parser.error(f"unknown run or fault: {', '.join(sorted(unknown))}")
    wanted = set(options.only)
    jobs: list[tuple[str, list[str], str, list[str], list[str], list[str] | None]] = [
        (name, [], green.variant, [green.expected_finding] if green.expected_finding else [],
         ["--profile", "gate", *green.args], None)
        for name, green in GREEN_RUNS.items() if not wanted or name in wanted
    ]
    faults = [f for f in FAULTS if (not wanted or f.name in wanted) and f.name not in NOT_PROBED]
    chosen = {} if options.whole_suite else selections(faults)
    jobs += [(f.name, [f.name], "clean", list(f.rules),
              ["--profile", options.profile, *FAULT_ARGS.get(f.name, ()), *lean_args(chosen.get(f.name))],
              None if f.name in WHOLE_SUITE else chosen.get(f.name))
             for f in faults]
    # Longest first (green runs, then the faults with the most checks), so the pool ends together.
    jobs.sort(key=lambda job: -1 if job[5] is None else len(job[5]))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        runs = list(pool.map(lambda job: mutate(*job), jobs))
    wall = time.monotonic() - started
    print(table(runs))
    fault_runs = [r for r in runs if not r.green]
    green_runs = [r for r in runs if r.green]
    caught = sum(1 for r in fault_runs if r.ok)
    green_ok = all(r.ok for r in green_runs)
    result = {
        "faults": len(fault_runs), "caught": caught, "missed": [r.name for r in fault_runs if not r.ok],
        "not_probed": NOT_PROBED,
        "green_runs_ok": green_ok, "green_runs_red": [r.name for r in green_runs if not r.ok],
        "seconds": round(wall, 1), "requests": sum(r.requests for r in runs),
        "runs": [asdict(r) | {"ok": r.ok} for r in runs],
    }
    Path(options.output).parent.mkdir(parents=True, exist_ok=True)
    Path(options.output).write_text(json.dumps(result, indent=2) + "\n")
    missed = len(fault_runs) - caught
    for name, reason in NOT_PROBED.items():
        print(f"not probed, by design: {name} — {reason}")
    print(f"\nmutants: {caught}/{len(fault_runs)} faults caught by a test of their own rule; green runs "
          f"({', '.join(r.name for r in green_runs) or 'none'}) {'all green' if green_ok else 'NOT all green'}; "
          f"{wall:.0f} s wall; table in {options.output}")
    print(f"{caught + sum(r.ok for r in green_runs)} passed, {missed + sum(not r.ok for r in green_runs)} failed")
    return 0 if missed == 0 and green_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
