"""The front of the HTML report says the run's verdict before anything else: pass, fail, incomplete or
error, the checks by level and verdict, the MUST failures first — each with its rule's text from
`rules.py` —, then SHOULD findings and, with `--baseline`, what changed since the baseline. It is put
into Allure's single-file report as a block above the app (`make report`), and Allure's percentage
ring, which shows a failing gate as mostly green, is hidden.

    python -m cstar_conformance.verdict_page reports/summary.json reports/html/index.html
"""

from __future__ import annotations

import argparse
import json
import sys
from html import escape
from pathlib import Path
from typing import Any

from cstar_conformance.baseline import broken_rules
from cstar_conformance.rules import RULES

MARK = "<!-- cstar-verdict -->"
COLUMNS = ("passed", "failed", "error", "finding", "blocked", "skipped", "not run")
_COLOURS = {"pass": "#1e7b34", "fail": "#b3261e", "incomplete": "#9a6700", "error": "#b3261e"}
_STYLE = """
#cstar-verdict{font:14px/1.45 system-ui,sans-serif;padding:16px 24px;border-bottom:1px solid #ccc;
background:#fff;color:#1b1b1b;max-height:60vh;overflow:auto}
#cstar-verdict h1{margin:0 0 4px;font-size:22px;color:#fff;padding:8px 12px;border-radius:4px}
#cstar-verdict h2{font-size:16px;margin:14px 0 6px}
#cstar-verdict table{border-collapse:collapse;margin:6px 0}
#cstar-verdict td,#cstar-verdict th{border:1px solid #ddd;padding:2px 8px;text-align:right}
#cstar-verdict th:first-child,#cstar-verdict td:first-child{text-align:left}
#cstar-verdict li{margin:4px 0}
#cstar-verdict .rule{color:#444;font-size:13px}
#cstar-verdict code{font-size:12px}
.summary-widget__chart{display:none}
"""
_RULES = {r.id: r for r in RULES}


def _rule_text(rule_ids: list[str]) -> str:
    parts = []
    for rule_id in rule_ids:
        rule = _RULES.get(rule_id)
        if rule is not None:
            parts.append(f"<div class='rule'><b>{escape(rule.id)}</b> ({rule.level.value}) {escape(rule.title)} "
                         f"— {escape(rule.statement)}</div>")
    return "".join(parts)


def _check_item(check: dict[str, Any], with_rules: bool) -> str:
    message = check.get("message") or ""
    was = f" <i>(was {escape(check['baseline_verdict'])})</i>" if check.get("baseline_verdict") else ""
    text = (f"<li><code>{escape(check.get('id') or check['test'])}</code>{was}"
            + (f": {escape(message[:400])}" if message else ""))
    return text + (_rule_text(broken_rules(check)) if with_rules else "") + "</li>"


def _levels_table(totals: dict[str, dict[str, int]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    rows = "".join(
        f"<tr><td>{escape(level)}</td>" + "".join(f"<td>{counts.get(c, 0) or ''}</td>" for c in COLUMNS) + "</tr>"
        for level, counts in sorted(totals.items(), key=lambda kv: ("MUST", "SHOULD", "MAY").index(kv[0])
                                    if kv[0] in ("MUST", "SHOULD", "MAY") else 9))
    return f"<table><tr><th>level</th>{head}</tr>{rows}</table>"


def _diff_html(diff: dict[str, Any]) -> str:
    from cstar_conformance.baseline import HEADINGS

    parts = [f"<h2>Against the baseline</h2><p>{escape(str(diff.get('source')))} — run "
             f"{escape(str(diff.get('run_id')))}, verdict {escape(str(diff.get('verdict')))}, "
             f"{escape(str(diff.get('finished_at')))}; fail on: {escape(diff.get('fail_on', 'any'))}"
             + ("; same suite, spec and target: verdict changes are flaky" if diff.get("same_run") else "")
             + "</p>"]
    for key, title in HEADINGS:
        entries = diff.get(key) or []
        if entries:
            parts.append(f"<p><b>{escape(title)}: {len(entries)}</b></p><ul>"
                         + "".join(_check_item(e, key in ("new_failures", "flaky")) for e in entries) + "</ul>")
    for rename in diff.get("renamed") or []:
        parts.append(f"<p>renamed: <code>{escape(rename['from'])}</code> → <code>{escape(rename['to'])}</code> "
                     f"(by {escape(rename['by'])})</p>")
    return "".join(parts)


def _coverage_html(coverage: dict[str, Any]) -> str:
    """Operations × documented status codes: observed by fuzzing or a scenario, the legal alternative
    answered, 429 not met (the target did not rate-limit), or not observed."""
    from cstar_conformance.coverage import RATE_LIMITED, line

    rows = []
    for operation in coverage.get("operations") or []:
        cells = []
        for code in operation["documented"]:
            sources = operation["answers"].get(code, {})
            if code in operation["observed"]:
                text = f"{code} ✓" + (" fuzz" if sources.get("fuzzing") else "")
            elif code in operation.get("by_alternative", {}):
                text = f"{code} ≈ {operation['by_alternative'][code]}"
            elif code == RATE_LIMITED:
                text = f"{code} not met"
            else:
                text = f"<b>{code} ✗</b>"
            cells.append(text)
        rows.append(f"<tr><td>{escape(operation['operation'])}</td><td style='text-align:left'>{' · '.join(cells)}</td>"
                    f"<td>{escape(', '.join(operation['undocumented']))}</td></tr>")
    return (f"<h2>Schema coverage</h2><p>{escape(line(coverage))}</p>"
            "<p class='rule'>✓ observed by a check (fuzz: by Schemathesis); ≈ the legal alternative the target "
            "answered instead; 429 not met: the target did not rate-limit; ✗ not observed.</p>"
            "<table><tr><th>operation</th><th>documented status codes</th><th>undocumented answers</th></tr>"
            + "".join(rows) + "</table>" + _keywords_html(coverage.get("keywords")))


def _keywords_html(keywords: dict[str, Any] | None) -> str:
    """The schema keywords the fuzzing exercised, and the customer request keywords it left one-sided."""
    if not keywords:
        return ""
    from cstar_conformance.coverage import keyword_line

    mine = keywords["customer_operations"]
    lists = [(title, mine.get(key) or []) for title, key in (
        ("given only valid values (the fuzzing never broke them)", "request_never_broken"),
        ("given only invalid values", "request_never_met"), ("never reached", "request_not_reached"))]
    details = "".join(f"<details><summary>Customer request keywords {escape(title)}: {len(items)}</summary><ul>"
                      + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul></details>"
                      for title, items in lists if items)
    return (f"<h3>Schema keywords</h3><p>{escape(keyword_line(keywords))}</p>"
            "<p class='rule'>A request keyword is reached when a generated request carried a value it applies to, "
            "and counts both ways when one value met it and another broke it; a parameter's <code>type: "
            "string</code> cannot be broken on the wire. A response keyword is reached when an answer carried a "
            "value it applies to.</p>" + details)


def render(summary: dict[str, Any]) -> str:
    """The verdict block (HTML) of one summary.json."""
    verdict = str(summary.get("verdict") or "incomplete")
    checks = summary.get("checks") or []
    red = [c for c in checks if c.get("verdict") in ("failed", "error")]
    must = [c for c in red if c.get("level") == "MUST"] + [c for c in red if c.get("level") != "MUST"]
    findings = [c for c in checks if c.get("verdict") == "finding"]
    requests = summary.get("requests") or {}
    spec = summary.get("spec") or {}
    facts = [f"target {summary.get('target', '?')}", f"run {summary.get('run_id', '?')}",
             f"profile {summary.get('profile', '?')}", f"seed {summary.get('seed', '?')}",
             f"spec {spec.get('version', '?')} ({spec.get('sha256', '?')})",
             f"{requests.get('total', '?')} requests", f"finished {summary.get('finished_at', '?')}",
             f"exit status {summary.get('exit_status')}"]
    colour = _COLOURS["incomplete"] if verdict == "pass" and red else _COLOURS.get(verdict, "#555")
    parts = [f"<h1 style='background:{colour}'>VERDICT: {escape(verdict.upper())} — "
             f"{escape(str(summary.get('reason', '')))}</h1>", f"<p>{escape(' · '.join(facts))}</p>"]
    if not summary.get("complete"):
        parts.append(f"<p><b>Not a complete run:</b> {summary.get('not_run') or 0} check(s) not run; the verdict "
                     "covers only the checks graded.</p>")
    if summary.get("totals"):
        parts.append(_levels_table(summary["totals"]))
    title = "MUST failures" if all(c.get("level") == "MUST" for c in must) else "Failures"
    parts.append(f"<h2>{title}: {len(must)}</h2>")
    if must:
        parts.append("<ul>" + "".join(_check_item(c, True) for c in must) + "</ul>")
    parts.append(f"<h2>SHOULD findings (warnings): {len(findings)}</h2>")
    if findings:
        parts.append("<ul>" + "".join(_check_item(c, True) for c in findings) + "</ul>")
    if summary.get("baseline"):
        parts.append(_diff_html(summary["baseline"]))
    if summary.get("coverage"):
        parts.append(_coverage_html(summary["coverage"]))
    evidence = summary.get("evidence")
    if evidence:
        parts.append(f"<p class='rule'>Evidence: every exchange of a failed check is attached; a passed check "
                     f"keeps a sample ({evidence.get('exchanges_dropped', 0)} exchanges of passed checks left out). "
                     "The full results of each check are below.</p>")
    return f"{MARK}<style>{_STYLE}</style><div id='cstar-verdict'>{''.join(parts)}</div>{MARK}"


def inject(summary: dict[str, Any], page: str) -> str:
    """The report page with the verdict block at the top of its body (replacing an earlier one)."""
    if MARK in page:
        start = page.index(MARK)
        end = page.index(MARK, start + len(MARK)) + len(MARK)
        page = page[:start] + page[end:]
    at = page.index("<body>") + len("<body>") if "<body>" in page else 0
    return page[:at] + render(summary) + page[at:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", type=Path)
    parser.add_argument("page", type=Path)
    args = parser.parse_args(argv)
    try:
        summary = json.loads(args.summary.read_text(encoding="utf-8"))
        page = args.page.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"verdict page: {exc}\n")
        return 1
    args.page.write_text(inject(summary, page), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
