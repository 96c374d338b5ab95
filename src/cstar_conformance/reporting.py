"""Per-check verdicts, the terminal verdict, and the Allure side of the reports: labels, exchange
attachments, environment, categories, and the run's own verdict when it is not a plain pass."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cstar_conformance import baseline, summary
from cstar_conformance.client import Exchange
from cstar_conformance.coverage import line as coverage_line
from cstar_conformance.exits import MEANING
from cstar_conformance.levels import Grade
from cstar_conformance.traffic import RequestStats

if TYPE_CHECKING:
    from cstar_conformance.session import Session

FINDING_PREFIX = "SHOULD finding"
BLOCKED = re.compile(r"^blocked by ([A-Z][A-Z0-9-]*[A-Z0-9])\b")  # a skip reason the suites give
NOT_RUN = "not run"  # the check the budget stopped, and any after it
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
    try:
        with allure.step(f"{exchange.method} {path} → {exchange.status}"):
            allure.attach(exchange.render(), name="exchange (curl inside)", attachment_type=AttachmentType.TEXT)
    except (KeyError, StopIteration, AttributeError):
        # allure-pytest keeps its "current test" per thread and hands a new thread the main thread's last item,
        # which during a fixture's set-up is no executable one: an exchange of a wave (waves.py) sent then has
        # nothing to attach to. The report loses that one attachment; the request and its checks go on.
        return


def label_test(grade: Grade) -> None:
    if allure is None or grade.level is None:
        return
    allure.dynamic.tag(grade.level.value)
    allure.dynamic.label("level", grade.level.value)
    allure.dynamic.severity(_SEVERITY[grade.level.value])
    for rule_id in grade.ids:  # a tag per rule (the report filters by tag; a label would only repeat it)
        allure.dynamic.tag(rule_id)


def skip_reason(report: pytest.TestReport) -> str:
    """What a skipped check says (a `blocked by RULE: …` one names the rule that blocked it)."""
    message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return message.removeprefix("Skipped: ")


def blocked_by(report: pytest.TestReport) -> str | None:
    """The rule a skipped check was blocked by, if it was."""
    found = BLOCKED.match(skip_reason(report)) if report.skipped else None
    return found.group(1) if found else None


def collect(state: Session, report: pytest.TestReport) -> None:
    """Turn reports into one verdict per check (call phase, or a setup that did not pass); each
    phase's requests are added to its check."""
    props = dict(report.user_properties)
    requests = int(props.get("requests", 0) or 0)
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
    message = ""
    if report.passed:
        verdict = "passed"
    elif wasxfail.startswith(FINDING_PREFIX):
        verdict, message = "finding", wasxfail
    elif report.skipped:
        message = skip_reason(report)
        verdict = NOT_RUN if props.get("stopped") else "blocked" if BLOCKED.match(message) else "skipped"
    else:
        verdict = "failed" if report.when == "call" else "error"
        message = short_message(report)
    row = {
        "id": props.get("check_id") or baseline.check_id(report.nodeid, []),
        "test": report.nodeid,
        "rules": [r for r in str(props.get("rules", "")).split(",") if r],
        "level": props.get("level") or None,
        "verdict": verdict,
        "message": message,
        "requests": pending.pop(report.nodeid, 0) if report.when != "teardown" else 0,
        "seconds": float(props.get("seconds", 0) or 0),
    }
    if verdict == "blocked":
        row["blocked_by"] = BLOCKED.match(message).group(1)  # type: ignore[union-attr]
    state.results.append(row)


def rule_held(state: Session, rule: str) -> bool:
    """Whether this process saw a check of `rule` pass and none of it go red, blocked or not run."""
    rows = [r for r in state.results if rule in r["rules"]]
    return bool(rows) and all(r["verdict"] in ("passed", "skipped") for r in rows) and any(
        r["verdict"] == "passed" for r in rows)


def of_verdict(state: Session, *verdicts: str) -> list[dict[str, Any]]:
    return [r for r in state.results if r["verdict"] in verdicts]


def requests_of(state: Session) -> dict[str, Any]:
    """The run's requests: this process's and, under xdist, its workers' (counts added, the quota's first
    and latest statement kept)."""
    merged = RequestStats()
    merged.merge(state.stats.as_dict())
    merged.merge(state.workers_stats.as_dict())
    run = merged.as_dict()
    budget = state.traffic.budget
    return {"quota": run["quota"], "total": run["total"], "rate_limited": run["rate_limited"],
            "rate_limited_by_family": dict(Counter(run["rate_limited_by_family"]).most_common()),
            "max_requests": budget.max_requests, "seconds_waiting_429": round(budget.waited, 1),
            "by_family": dict(Counter(run["by_family"]).most_common()),
            "by_operation": dict(Counter(run["by_operation"]).most_common()),
            "by_answer": dict(sorted(run["by_answer"].items())), "by_keyword": dict(sorted(run["by_keyword"].items()))}


_COLOURS = {summary.PASS: {"green": True}, summary.FAIL: {"red": True}, summary.INCOMPLETE: {"yellow": True},
            summary.ERROR: {"red": True}}


def terminal_summary(tr: Any, state: Session, config: pytest.Config, exitstatus: int) -> None:
    verdict, reason = state.verdict or summary.verdict_of(state, exitstatus)[::2]
    fails, finds = of_verdict(state, "failed", "error"), of_verdict(state, "finding")
    blocked, skips, not_run = of_verdict(state, "blocked"), of_verdict(state, "skipped"), of_verdict(state, NOT_RUN)
    requests = requests_of(state)
    tr.section("cStar conformance verdict")
    tr.write_line(f"VERDICT: {verdict.upper()} — {reason}", bold=True, **_COLOURS[verdict])
    tr.write_line(f"target: {state.target.description}   run: {state.run_id}   profile: {state.profile}   "
                  f"seed: {state.seed}")
    if state.diff is not None:
        for text, colour in baseline.lines(state.diff):
            tr.write_line(text, **({colour: True} if colour else {}))
    label = "MUST failed" if not state.strict else "failed (strict)"
    tr.write_line(f"{label}: {len(fails)}", red=bool(fails), green=not fails)
    for r in fails:
        tr.write_line(f"  ✗ [{r['level'] or '-'} {', '.join(r['rules'])}] {r['test']}: {r['message']}", red=True)
    tr.write_line(f"SHOULD findings (warnings): {len(finds)}", yellow=bool(finds))
    for r in finds:
        tr.write_line(f"  ! [{', '.join(r['rules'])}] {r['test']}: {r['message'].split(': ', 1)[-1]}",
                      yellow=True)
    for title, rows in (("blocked by another rule's failure", blocked), ("skipped", skips)):
        if rows or title == "skipped":
            tr.write_line(f"{title}: {len(rows)}")
            for reason_text, count in Counter(r["message"] for r in rows).most_common(8):
                tr.write_line(f"  - {count} × {reason_text}")
    never = max(0, state.collected - len(state.results)) + len(not_run)
    if never:
        tr.write_line(f"{NOT_RUN}: {never} (the run stopped before them)", yellow=True)
    passed = len(of_verdict(state, "passed"))
    tr.write_line(f"passed: {passed}   requests: {requests['total']} of at most {requests['max_requests']} "
                  f"(429 seen: {requests['rate_limited']})   seconds: {time.monotonic() - state.started:.1f}")
    quota = requests.get("quota") or {}
    if quota.get("start") and quota.get("end"):
        start, end = quota["start"], quota["end"]
        of = f" of {start['limit']}" if start.get("limit") is not None else ""
        tr.write_line(f"target quota (X-RateLimit-*): {start['remaining']}{of} left at the start, {end['remaining']} "
                      f"at the end" + (f" (resets {end['reset_at']})" if end.get("reset_at") else ""))
    if requests["by_family"]:
        families = ", ".join(f"{name} {count}" for name, count in requests["by_family"].items())
        tr.write_line(f"requests by family: {families}")
    if state.coverage:
        tr.write_line(coverage_line(state.coverage))
    meaning = "checks could not be collected" if state.collection_errors else MEANING.get(exitstatus, "see pytest")
    tr.write_line(f"exit status {exitstatus} ({meaning}); reports: {state.reports_dir}/ "
                  f"(summary.json, junit.xml, allure-results/; HTML: make report)")


def write_environment(state: Session, allure_dir: Path, verdict: str, reason: str) -> None:
    """Allure's environment panel (target, spec, suite version, commit, seed, verdict) and categories."""
    from importlib.metadata import version

    spec_version, spec_hash = summary.spec_identity(state.spec_path)
    rows = {
        "Verdict": f"{verdict.upper()} — {reason}",
        "Target": state.target.description,
        "Base URL": state.target.base_url,
        "Spec version": spec_version,
        "Spec SHA-256": spec_hash,
        "Suite version": version("cstar-conformance"),
        "Git commit": summary.git_commit() or "unknown",
        "Hypothesis seed": str(state.seed),
        "Profile": state.profile,
        "Run id": state.run_id,
        "Strict": str(state.strict),
    }
    allure_dir.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key.replace(' ', '.')}={state.masker(value)}\n" for key, value in rows.items())
    (allure_dir / "environment.properties").write_text(text)
    write_categories(allure_dir)


def write_categories(allure_dir: Path) -> None:
    """The Categories tab keeps MUST failures, SHOULD findings, blocked checks and plain skips apart."""
    categories = [
        {"name": "Run verdict: not a complete run", "matchedStatuses": ["broken"], "messageRegex": "^RUN .*"},
        {"name": "MUST failures", "matchedStatuses": ["failed", "broken"]},
        {"name": "SHOULD findings (warnings)", "matchedStatuses": ["skipped"], "messageRegex": f".*{FINDING_PREFIX}.*"},
        {"name": "Blocked by another rule's failure", "matchedStatuses": ["skipped"],
         "messageRegex": "(?s).*blocked by [A-Z][A-Z0-9-]*.*"},
        {"name": "Not run: the run stopped first", "matchedStatuses": ["skipped"],
         "messageRegex": f"(?s).*{NOT_RUN}.*"},
        {"name": "Skipped: not observable or not applicable here", "matchedStatuses": ["skipped"]},
    ]
    allure_dir.mkdir(parents=True, exist_ok=True)
    (allure_dir / "categories.json").write_text(json.dumps(categories, indent=2))


def write_run_verdict(allure_dir: Path, verdict: str, reason: str) -> None:
    """A run that is not a complete pass or fail shows that first in the HTML report, as a result of its own."""
    now = int(time.time() * 1000)
    result = {
        "uuid": str(uuid.uuid4()), "historyId": "cstar-run-verdict", "testCaseId": "cstar-run-verdict",
        "name": f"cStar run verdict: {verdict.upper()}", "fullName": "cstar.run.verdict",
        "status": "broken", "stage": "finished", "start": now, "stop": now,
        "statusDetails": {"message": f"RUN {verdict.upper()}: {reason}"},
        "labels": [{"name": "suite", "value": "cStar run"}, {"name": "severity", "value": "blocker"}],
    }
    allure_dir.mkdir(parents=True, exist_ok=True)
    (allure_dir / f"{result['uuid']}-result.json").write_text(json.dumps(result, indent=2))
