"""Verdicts and reports: per-check results graded by level, the terminal summary,
reports/summary.json, and Allure labels and exchange attachments."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cstar_conformance.client import Exchange
from cstar_conformance.levels import Grade

if TYPE_CHECKING:
    from cstar_conformance.session import Session

FINDING_PREFIX = "SHOULD finding"
_SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}

try:  # allure-pytest is a dependency, but keep the library importable without it
    import allure
    from allure_commons.types import AttachmentType
except ImportError:  # pragma: no cover
    allure = None  # type: ignore[assignment]


def short_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first.removeprefix("AssertionError: ")[:300]


def exchange_step(exchange: Exchange) -> None:
    """One HTTP exchange as an Allure step of the running test (or fixture), with the exchange —
    secrets already masked by the client — attached. A no-op outside an Allure run."""
    if allure is None:
        return
    path = re.sub(r"^/teams/[^/]+", "", exchange.url.split("/api/v1", 1)[-1]) or "/"
    if len(path) > 90:
        path = path[:87] + "…"
    with allure.step(f"{exchange.method} {path} → {exchange.status}"):
        allure.attach(exchange.render(), name="exchange (curl inside)", attachment_type=AttachmentType.TEXT)


def label_test(grade: Grade) -> None:
    if allure is None or grade.level is None:
        return
    allure.dynamic.tag(grade.level.value)
    allure.dynamic.label("level", grade.level.value)
    allure.dynamic.severity(_SEVERITY[grade.level.value])
    for rule_id in grade.ids:
        allure.dynamic.label("rule", rule_id)
        allure.dynamic.tag(rule_id)


def _props(report: pytest.TestReport) -> dict[str, Any]:
    return dict(report.user_properties)


def collect(state: Session, report: pytest.TestReport) -> None:
    """Turn reports into one verdict per check (call phase, or a setup that did not pass); each
    phase's requests are added to its check."""
    props = _props(report)
    requests = int(props.get("requests", 0) or 0)
    if getattr(report, "node", None) is not None:  # from an xdist worker
        state.remote_requests += requests
        state.remote_rate_limited += int(props.get("rate_limited", 0) or 0)
    pending = state.pending_requests
    own = requests - int(props.get("housekeeping", 0) or 0)
    pending[report.nodeid] = pending.get(report.nodeid, 0) + own
    if report.when == "teardown":
        extra = pending.pop(report.nodeid, 0)
        row = next((r for r in reversed(state.results) if r["test"] == report.nodeid), None)
        if row is not None:
            row["requests"] += extra
        if not report.failed:
            return
    elif report.when == "setup" and report.passed:
        return
    wasxfail = getattr(report, "wasxfail", "") or ""
    if report.passed:
        verdict = "passed"
    elif wasxfail.startswith(FINDING_PREFIX):
        verdict = "finding"
    elif report.skipped:
        verdict = "skipped"
    elif report.when == "call":
        verdict = "failed"
    else:
        verdict = "error"
    if verdict == "finding":
        message = wasxfail
    elif verdict == "skipped":
        message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        message = message.removeprefix("Skipped: ")
    elif verdict in ("failed", "error"):
        message = short_message(report)
    else:
        message = ""
    state.results.append({
        "test": report.nodeid,
        "rules": [r for r in str(props.get("rules", "")).split(",") if r],
        "level": props.get("level") or None,
        "verdict": verdict,
        "message": message,
        "requests": pending.pop(report.nodeid, 0) if report.when != "teardown" else 0,
        "seconds": float(props.get("seconds", 0) or 0),
    })


def totals(state: Session) -> dict[str, Any]:
    by_level: dict[str, Counter[str]] = {}
    for result in state.results:
        by_level.setdefault(result["level"] or "none", Counter())[result["verdict"]] += 1
    return {level: dict(counter) for level, counter in sorted(by_level.items())}


def request_total(state: Session) -> int:
    return state.stats.total + state.remote_requests


def must_failures(state: Session) -> list[dict[str, Any]]:
    return [r for r in state.results if r["verdict"] in ("failed", "error")]


def findings(state: Session) -> list[dict[str, Any]]:
    return [r for r in state.results if r["verdict"] == "finding"]


def skipped(state: Session) -> list[dict[str, Any]]:
    return [r for r in state.results if r["verdict"] == "skipped"]


def terminal_summary(tr: Any, state: Session, config: pytest.Config) -> None:
    fails, finds, skips = must_failures(state), findings(state), skipped(state)
    seconds = time.monotonic() - state.started
    tr.section("cStar conformance verdict")
    tr.write_line(f"target: {state.target.description}   run: {state.run_id}   profile: {state.profile}   "
                  f"seed: {state.seed}")
    label = "MUST failed" if not state.strict else "failed (strict)"
    tr.write_line(f"{label}: {len(fails)}", red=bool(fails), green=not fails)
    for r in fails:
        tr.write_line(f"  ✗ [{r['level'] or '-'} {', '.join(r['rules'])}] {r['test']}: {r['message']}", red=True)
    tr.write_line(f"SHOULD findings (warnings): {len(finds)}", yellow=bool(finds))
    for r in finds:
        tr.write_line(f"  ! [{', '.join(r['rules'])}] {r['test']}: {r['message'].split(': ', 1)[-1]}",
                      yellow=True)
    reasons = Counter(r["message"] for r in skips)
    tr.write_line(f"skipped: {len(skips)}")
    for reason, count in reasons.most_common():
        tr.write_line(f"  - {count} × {reason}")
    passed = sum(1 for r in state.results if r["verdict"] == "passed")
    tr.write_line(f"passed: {passed}   requests: {request_total(state)} "
                  f"(429 seen: {state.stats.rate_limited + state.remote_rate_limited})   "
                  f"seconds: {seconds:.1f}")
    if state.stats.by_family:
        families = ", ".join(f"{name} {count}" for name, count in state.stats.by_family.most_common())
        tr.write_line(f"requests by family: {families}")
    html = Path(config.invocation_params.dir) / config.getini("cstar_reports_dir") / "html" / "index.html"
    tr.write_line(f"reports: {html.parent.parent}/ (junit.xml, allure-results/, summary.json); "
                  f"HTML: {'make report → ' if not html.exists() else ''}{html}")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def spec_identity(path: Path) -> tuple[str, str]:
    """The contract's info.version and the first 12 hex digits of its SHA-256."""
    import hashlib

    import yaml

    raw = path.read_bytes()
    version = str((yaml.safe_load(raw) or {}).get("info", {}).get("version", "?"))
    return version, hashlib.sha256(raw).hexdigest()[:12]


def write_environment(state: Session, allure_dir: Path) -> None:
    """Allure's environment panel: target, spec version and hash, suite version, commit, seed."""
    from importlib.metadata import version

    spec_version, spec_hash = spec_identity(state.spec_path)
    rows = {
        "Target": state.target.description,
        "Base URL": state.target.base_url,
        "Spec version": spec_version,
        "Spec SHA-256": spec_hash,
        "Suite version": version("cstar-conformance"),
        "Git commit": _git_commit() or "unknown",
        "Hypothesis seed": str(state.seed),
        "Profile": state.profile,
        "Run id": state.run_id,
        "Strict": str(state.strict),
    }
    allure_dir.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key.replace(' ', '.')}={state.masker(value)}\n" for key, value in rows.items())
    (allure_dir / "environment.properties").write_text(text)
    # The Categories tab keeps MUST failures, SHOULD findings and plain skips apart.
    categories = [
        {"name": "MUST failures", "matchedStatuses": ["failed", "broken"]},
        {"name": "SHOULD findings (warnings)", "matchedStatuses": ["skipped"], "messageRegex": f".*{FINDING_PREFIX}.*"},
        {"name": "Skipped: not observable or not applicable here", "matchedStatuses": ["skipped"]},
    ]
    (allure_dir / "categories.json").write_text(json.dumps(categories, indent=2))


def write_summary(state: Session, path: Path, exitstatus: int) -> None:
    """reports/summary.json: one entry per check, totals by level, requests, target, seed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    by_family: Counter[str] = Counter(state.stats.by_family)
    summary = {
        "target": state.target.description,
        "base_url": state.masker(state.target.base_url),
        "run_id": state.run_id,
        "profile": state.profile,
        "seed": state.seed,
        "strict": state.strict,
        "exit_status": int(exitstatus),
        "seconds": round(time.monotonic() - state.started, 2),
        "requests": {"total": request_total(state), "rate_limited": state.stats.rate_limited
                     + state.remote_rate_limited, "by_family": dict(by_family),
                     "by_operation": dict(state.stats.by_operation.most_common())},
        "totals": totals(state),
        "must_failures": len(must_failures(state)),
        "should_findings": len(findings(state)),
        "git_commit": _git_commit(),
        "spec": dict(zip(("version", "sha256"), spec_identity(state.spec_path), strict=True)),
        "checks": state.results,
    }
    path.write_text(state.masker(json.dumps(summary, indent=2)) + "\n")
