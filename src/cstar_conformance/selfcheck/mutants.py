"""The mutation run: the suite against the clean reference, the legal-variation mode, and each
fault switch. A fault counts as caught only when a check of a rule it breaks goes red (a MUST
failure or a SHOULD finding); other red checks are shown as collateral.

    python -m cstar_conformance.selfcheck.mutants [--jobs 2] [--profile gate] [--only NAME ...]
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
RATE_LIMITED = ["--reference-arg=--rate-limit=40", "--reference-arg=--rate-window=1"]
# Modes that must be green: the clean reference, every MAY alternative, and a rate-limited server
# (the suite must wait 429s out and never count one as a failure).
CLEAN_MODES: dict[str, tuple[str, list[str]]] = {
    "clean": ("clean", []),
    "alt": ("alt", []),
    "rate-limited": ("clean", RATE_LIMITED),
}
# Faults that only show under a server setting.
FAULT_ARGS: dict[str, list[str]] = {"rate-limit-no-retry-after": RATE_LIMITED}


@dataclass
class Run:
    name: str  # "clean", "alt" or the fault's name
    rules: list[str]
    exit_status: int
    seconds: float
    requests: int
    rate_limited: int = 0
    detected_by: list[str] = field(default_factory=list)  # red checks of the fault's own rules
    collateral: list[str] = field(default_factory=list)  # other red checks
    problem: str = ""

    @property
    def ok(self) -> bool:
        if self.name in CLEAN_MODES:
            seen_429 = self.rate_limited > 0 or self.name != "rate-limited"
            return self.exit_status == 0 and not self.collateral and not self.problem and seen_429
        return bool(self.detected_by) and not self.problem


def run_suite(args: list[str], reports: Path, timeout: float = 240) -> tuple[int, dict[str, Any], float, str]:
    """Run the conformance suite in a subprocess; return (exit status, summary.json, seconds, output tail)."""
    cmd = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
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
    for check in summary.get("checks", []):
        if check["verdict"] not in RED:
            continue
        label = f"{check['test']} [{check['verdict']}]"
        if set(check["rules"]) & set(rules):
            run.detected_by.append(label)
        else:
            run.collateral.append(label)
    if name in CLEAN_MODES:
        run.collateral = run.collateral + run.detected_by
        run.detected_by = []
    return run


def mutate(name: str, faults: list[str], variant: str, rules: list[str], extra: list[str]) -> Run:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{name}-") as tmp:
        args = [*extra, "--reference-variant", variant]
        for fault in faults:
            args += ["--reference-fault", fault]
        status, summary, seconds, tail = run_suite(args, Path(tmp))
        return evaluate(name, rules, status, summary, seconds, tail)


def table(runs: list[Run]) -> str:
    lines = [f"{'mode / fault':38} {'rules':34} {'verdict':9} {'s':>5} {'req':>5}  detected by"]
    for run in runs:
        verdict = ("green" if run.ok else "RED") if run.name in CLEAN_MODES else (
            "caught" if run.ok else "MISSED")
        first = run.detected_by[0] if run.detected_by else (run.collateral[0] if run.collateral else "")
        first = first.replace("suites/scenarios/", "").replace("suites/contract/", "")
        extra = len(run.detected_by) - 1 + (len(run.collateral) if run.detected_by else len(run.collateral) - 1)
        if extra > 0:
            first += f" (+{extra})"
        if run.problem:
            first = run.problem[:120]
        lines.append(f"{run.name[:38]:38} {','.join(run.rules)[:34]:34} {verdict:9} {run.seconds:5.1f} "
                     f"{run.requests:5d}  {first}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=3, help="suite runs in parallel (default 3)")
    parser.add_argument("--profile", default="gate", help="suite profile for the fault runs (default gate)")
    parser.add_argument("--only", action="append", default=[], help="run only these faults")
    parser.add_argument("--output", default=str(ROOT / "reports" / "mutants.json"))
    options = parser.parse_args(argv)
    faults = [f for f in FAULTS if not options.only or f.name in options.only]
    jobs: list[tuple[str, list[str], str, list[str], list[str]]] = [
        (name, [], variant, [], ["--profile", "gate", *args]) for name, (variant, args) in CLEAN_MODES.items()
    ] if not options.only else []
    jobs += [(f.name, [f.name], "clean", list(f.rules), ["--profile", options.profile, *FAULT_ARGS.get(f.name, [])])
             for f in faults]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        runs = list(pool.map(lambda job: mutate(*job), jobs))
    wall = time.monotonic() - started
    print(table(runs))
    fault_runs = [r for r in runs if r.name not in CLEAN_MODES]
    clean_runs = [r for r in runs if r.name in CLEAN_MODES]
    caught = sum(1 for r in fault_runs if r.ok)
    clean_ok = all(r.ok for r in clean_runs)
    result = {
        "faults": len(fault_runs), "caught": caught, "missed": [r.name for r in fault_runs if not r.ok],
        "clean_modes_green": clean_ok, "seconds": round(wall, 1),
        "requests": sum(r.requests for r in runs), "runs": [asdict(r) | {"ok": r.ok} for r in runs],
    }
    Path(options.output).parent.mkdir(parents=True, exist_ok=True)
    Path(options.output).write_text(json.dumps(result, indent=2) + "\n")
    missed = len(fault_runs) - caught
    print(f"\nmutants: {caught}/{len(fault_runs)} faults caught by a test of their own rule; clean and legal-variation "
          f"modes {'green' if clean_ok else 'NOT green'}; {wall:.0f} s wall; table in {options.output}")
    print(f"{caught + sum(r.ok for r in clean_runs)} passed, {missed + sum(not r.ok for r in clean_runs)} failed")
    return 0 if missed == 0 and clean_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
