"""The run's verdict and reports/summary.json, the file a CI step may gate on.

The file is written when the run starts (verdict "incomplete": nothing decided yet) and replaced
when it ends — "pass" or "fail" for a run that graded its checks, "incomplete" for one that was
interrupted or ran out of request budget, "error" for one that could not start — so it never
shows a verdict the run did not reach, nor the previous run's.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstar_conformance import specfile
from cstar_conformance.baseline import assign_ids
from cstar_conformance.coverage import of_run as schema_coverage
from cstar_conformance.exits import EXIT_BUDGET, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PASSED, MEANING

if TYPE_CHECKING:
    from cstar_conformance.session import Session

PASS, FAIL, INCOMPLETE, ERROR = "pass", "fail", "incomplete", "error"
RED = ("failed", "error")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def suite_version() -> str:
    from importlib.metadata import version

    return version("cstar-conformance")


def embedded_version() -> str:
    """The embedded reference is the suite's own code: its version is the suite's."""
    return f"reference {suite_version()} at {git_commit() or 'unknown commit'}"


def spec_identity(path: Path) -> tuple[str, str]:
    """The contract's info.version and the first 12 hex digits of its SHA-256."""
    import yaml

    raw = path.read_bytes()
    try:
        document = specfile.parse(raw) or {}
        version = str(document.get("info", {}).get("version", "?")) if isinstance(document, dict) else "?"
    except (yaml.YAMLError, ValueError):
        version = "?"
    return version, hashlib.sha256(raw).hexdigest()[:12]


def started() -> dict[str, Any]:
    return {
        "complete": False, "verdict": INCOMPLETE, "exit_status": None,
        "reason": "the run has started and has no verdict yet; if this stays, it ended before it could "
                  "write one (see its output and exit status)",
        "started_at": _now(),
    }


def errored(message: str, exit_status: int, **extra: Any) -> dict[str, Any]:
    """A run that could not start (or go on): its one line and its status, nothing else to show."""
    return {"complete": False, "verdict": ERROR if exit_status not in (EXIT_INTERRUPTED, EXIT_BUDGET)
            else INCOMPLETE, "exit_status": exit_status, "reason": message,
            "exit_meaning": MEANING.get(exit_status, ""), "finished_at": _now(), **extra,
            "must_failures": None, "should_findings": None, "checks": []}


def verdict_of(state: Session, exitstatus: int) -> tuple[str, bool, str]:
    """(verdict, complete, reason) of a run that got as far as its checks."""
    ran = sum(1 for r in state.results if r["verdict"] != "not run")
    of = f"{ran} of {state.collected} checks graded"
    failures = sum(1 for r in state.results if r["verdict"] in RED)
    if state.stopped:
        left = (f"; records of run {state.run_id} remain: {'; '.join(state.left_behind[:5])}"
                if state.left_behind else "")
        return INCOMPLETE, False, f"{state.stopped}; {of}, {failures} MUST failures among them{left}"
    if state.collection_errors:
        return ERROR, False, f"{state.collection_errors} error(s) while collecting the checks; {of}"
    if exitstatus == EXIT_PASSED and ran >= state.collected > 0:
        return PASS, True, f"all {ran} checks graded, no MUST failure"
    if exitstatus == EXIT_FAILED:
        complete = ran >= state.collected
        what = f"{failures} MUST failure(s)" if failures else "SHOULD findings fail the run (--strict)"
        return FAIL, complete, what + ("" if complete else f"; stopped early, {of}")
    if exitstatus == EXIT_PASSED:
        return INCOMPLETE, False, f"{of}"
    return ERROR, False, f"pytest ended with status {exitstatus} ({MEANING.get(exitstatus, 'unknown')}); {of}"


def final(state: Session, exitstatus: int, requests: dict[str, Any]) -> dict[str, Any]:
    """summary.json of a run that reached its checks: verdict, one entry per check, totals, requests."""
    verdict, complete, reason = verdict_of(state, exitstatus)
    by_level: dict[str, dict[str, int]] = {}
    for result in state.results:
        counts = by_level.setdefault(result["level"] or "none", {})
        counts[result["verdict"]] = counts.get(result["verdict"], 0) + 1
    spec_version, spec_hash = spec_identity(state.spec_path) if state.spec_path.exists() else ("?", "?")
    assign_ids(state.results)
    answers = requests.pop("by_answer", {})
    hits = requests.pop("by_keyword", {})
    quota = requests.pop("quota", None)
    if state.spec_path.exists():
        state.coverage = schema_coverage(state.spec_path, answers, hits)
    return {
        "complete": complete,
        "verdict": verdict,
        "exit_status": int(exitstatus),
        "exit_meaning": MEANING.get(int(exitstatus), ""),
        "reason": reason,
        "left_behind": list(state.left_behind),  # records of a stopped run its cleanup could not delete
        "target": state.target.description,
        "base_url": state.target.base_url,
        "run_id": state.run_id,
        "profile": state.profile,
        "seed": state.seed,
        "strict": state.strict,
        "finished_at": _now(),
        "seconds": round(time.monotonic() - state.started, 2),
        "requests": requests,
        "quota": quota,  # the target's X-RateLimit-* at the start and at the end (None: it sends none)
        "totals": dict(sorted(by_level.items())),
        "collected": state.collected,
        "must_failures": sum(1 for r in state.results if r["verdict"] in RED),
        "should_findings": sum(1 for r in state.results if r["verdict"] == "finding"),
        "blocked": sum(1 for r in state.results if r["verdict"] == "blocked"),
        "not_run": max(0, state.collected - len(state.results)) + sum(1 for r in state.results
                                                                       if r["verdict"] == "not run"),
        "git_commit": git_commit(),
        "suite_version": suite_version(),
        "target_version": state.target_version,
        "fail_on": state.fail_on,
        "spec": {"version": spec_version, "sha256": spec_hash},
        "coverage": state.coverage,
        "checks": state.results,
    }
