"""The verdict against a baseline: a previous run's summary.json (a file, or a URL the CI job fetches).

Checks are matched by their stable id (`check_id`: the first rule the test names, the test's name and
its parameters — for a Schemathesis operation the operation, without the `/teams/{teamId}` prefix).
A check whose id is gone and a new one with the same rule and the same parameters are one renamed check
(matched only when that pairing is unique; `RENAMED` maps ids the matching cannot pair), so a rename
never reads as "fixed + new". A verdict that changed although nothing changed between the two runs —
same suite commit and version, spec hash, target, target version, profile and seed — is "flaky"; a
flaky check that is red now still gates like a new failure: a gate must not pass by calling a
regression flaky.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cstar_conformance.exits import EXIT_USAGE, StopRun

RED = ("failed", "error")
GREEN = ("passed",)
FINDING = "finding"
FAIL_ON = ("any", "new")
# Explicit renames (old check id → new check id) for the renames rule + parameters cannot pair.
RENAMED: dict[str, str] = {}
# What must be equal in both runs for a verdict change to be the check's own flakiness.
SAME_RUN_KEYS = ("git_commit", "suite_version", "target", "target_version", "profile", "seed")
_TEAM_PREFIX = re.compile(r"/teams/\{teamId\}")


def check_id(nodeid: str, rules: list[str]) -> str:
    """`RULE::test_name[parameters]`: stable across runs, folders and machines."""
    name = nodeid.partition("::")[2] or nodeid
    return f"{rules[0] if rules else '-'}::{_TEAM_PREFIX.sub('', name)}"


_NAMED = re.compile(r"^(?:SHOULD finding \[[^\]]*\]: )?\[([A-Z][A-Z0-9-]*(?:, [A-Z][A-Z0-9-]*)*)\]")


def broken_rules(check: dict[str, Any]) -> list[str]:
    """The rules a red check (or finding) broke: the ones its failure message names (`[RULE] …`, as the
    shared assertions and the fuzzing failures write them) when they are among the check's rules; else
    all of the check's rules."""
    rules = list(check.get("rules") or [])
    found = _NAMED.match(check.get("message") or "")
    named = [r for r in found.group(1).split(", ") if r in rules] if found else []
    return named or rules


def assign_ids(checks: list[dict[str, Any]]) -> None:
    """Give each check its id; two checks with the same id (same rule and name in two files) get
    their file's family appended, so ids stay unique."""
    for check in checks:
        check.setdefault("id", check_id(check["test"], check.get("declared_rules") or check.get("rules") or []))
    seen: dict[str, int] = {}
    for check in checks:
        seen[check["id"]] = seen.get(check["id"], 0) + 1
    for check in checks:
        if seen[check["id"]] > 1:
            family = Path(check["test"].partition("::")[0]).stem.removeprefix("test_")
            check["id"] = f"{check['id']}@{family}"


def _split(identifier: str) -> tuple[str, str]:
    """(rule, parameters) of an id: what a renamed test keeps."""
    rule, _, rest = identifier.partition("::")
    params = rest[rest.index("["):] if "[" in rest else ""
    return rule, params


def shown_source(source: str) -> str:
    """A baseline's source as it may be printed: a URL without credentials, query or fragment."""
    if re.match(r"^https?://", source, re.IGNORECASE):
        parts = urlsplit(source)
        return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    return source


def load(source: str, invocation_dir: Path) -> dict[str, Any]:
    """The baseline summary, read and checked; StopRun (usage, 4) with one line when it is unusable."""
    shown = shown_source(source)
    if re.match(r"^https?://", source, re.IGNORECASE):
        import httpx

        try:
            response = httpx.get(source, timeout=20, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise StopRun(f"--baseline {shown} cannot be fetched: {type(exc).__name__}", EXIT_USAGE) from None
        if response.status_code != 200:
            raise StopRun(f"--baseline {shown} answered {response.status_code}: give the URL of a previous "
                          "run's summary.json", EXIT_USAGE)
        text = response.text
    else:
        path = invocation_dir / source
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise StopRun(f"--baseline {shown} cannot be read ({exc.strerror or exc}): give a previous run's "
                          "summary.json", EXIT_USAGE) from None
    try:
        data = json.loads(text)
    except ValueError:
        raise StopRun(f"--baseline {shown} is not JSON: give a previous run's summary.json", EXIT_USAGE) from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise StopRun(f"--baseline {shown} is not a cStar summary.json (no list of checks)", EXIT_USAGE)
    if not data["checks"]:
        raise StopRun(f"--baseline {shown} graded no checks (verdict {data.get('verdict', '?')}): give the "
                      "summary of a run that reached its checks", EXIT_USAGE)
    for check in data["checks"]:
        if not isinstance(check, dict) or not isinstance(check.get("test"), str) or "verdict" not in check:
            raise StopRun(f"--baseline {shown} has a malformed check entry", EXIT_USAGE)
    assign_ids(data["checks"])
    data["source"] = shown
    return data


def same_run(baseline: dict[str, Any], current: dict[str, Any]) -> bool:
    """Nothing changed between the runs that could change a verdict: the suite, spec and target alike.
    Unknown (missing) values never count as equal."""
    for key in SAME_RUN_KEYS:
        if baseline.get(key) is None or baseline.get(key) != current.get(key):
            return False
    return bool(baseline.get("spec", {}).get("sha256")) and baseline.get("spec") == current.get("spec")


def _pair(baseline: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Renamed checks, old id → new id: the explicit map first, then a unique rule + parameters match."""
    gone = [i for i in baseline if i not in current]
    added = [i for i in current if i not in baseline]
    renamed = {old: new for old, new in RENAMED.items() if old in gone and new in added}
    left_gone = [i for i in gone if i not in renamed]
    left_added = [i for i in added if i not in renamed.values()]
    for old in left_gone:
        key = _split(old)
        if not key[1]:
            candidates = [new for new in left_added if _split(new) == key
                          and current[new]["test"].partition("::")[0] == baseline[old]["test"].partition("::")[0]]
        else:
            candidates = [new for new in left_added if _split(new) == key]
        if len(candidates) == 1 and sum(1 for o in left_gone if _split(o) == key) == 1:
            renamed[old] = candidates[0]
            left_added.remove(candidates[0])
    return renamed


def _entry(check: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    entry = {"id": check["id"], "test": check["test"], "level": check.get("level"), "rules": check.get("rules", []),
             "verdict": check["verdict"], "message": check.get("message", "")}
    if before is not None:
        entry["baseline_verdict"] = before["verdict"]
        if before["id"] != check["id"]:
            entry["renamed_from"] = before["id"]
    return entry


def diff(baseline: dict[str, Any], current: dict[str, Any], fail_on: str = "any",
         strict: bool = False) -> dict[str, Any]:
    """What changed since the baseline, check by check, and whether `--fail-on new` lets the run pass."""
    assign_ids(baseline["checks"])
    assign_ids(current["checks"])
    old = {c["id"]: c for c in baseline["checks"]}
    now = {c["id"]: c for c in current["checks"]}
    renamed = _pair(old, now)
    back = {new: old_id for old_id, new in renamed.items()}
    unchanged_run = same_run(baseline, current)
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in (
        "new_failures", "still_failing", "fixed", "new_findings", "still_findings", "fixed_findings", "flaky",
        "not_graded_now", "added", "removed")}
    for identifier, check in now.items():
        before = old.get(back.get(identifier, identifier))
        entry = _entry(check, before)
        verdict, previous = check["verdict"], before["verdict"] if before else None
        if before is None:
            lists["added"].append(entry)
        if previous is not None and unchanged_run and _grade(verdict) != _grade(previous) \
                and {_grade(verdict), _grade(previous)} <= {"red", "green", "finding"}:
            lists["flaky"].append(entry)
            continue
        if verdict in RED:
            lists["still_failing" if previous in RED else "new_failures"].append(entry)
        elif verdict == FINDING:
            lists["still_findings" if previous == FINDING else "new_findings"].append(entry)
        elif verdict in GREEN and previous in RED:
            lists["fixed"].append(entry)
        elif verdict in GREEN and previous == FINDING:
            lists["fixed_findings"].append(entry)
        elif previous in RED or previous == FINDING:
            lists["not_graded_now"].append(entry)
    for identifier, check in old.items():
        if identifier not in now and identifier not in renamed:
            lists["removed"].append({"id": identifier, "test": check["test"], "level": check.get("level"),
                                     "rules": check.get("rules", []), "baseline_verdict": check["verdict"]})
    flaky_red = [e for e in lists["flaky"] if e["verdict"] in RED]
    flaky_finding = [e for e in lists["flaky"] if e["verdict"] == FINDING]
    regressions = len(lists["new_failures"]) + len(flaky_red)
    if strict:
        regressions += len(lists["new_findings"]) + len(flaky_finding)
    return {
        "source": baseline.get("source", "?"),
        "run_id": baseline.get("run_id"), "finished_at": baseline.get("finished_at"),
        "verdict": baseline.get("verdict"), "git_commit": baseline.get("git_commit"),
        "target": baseline.get("target"), "same_run": unchanged_run, "fail_on": fail_on,
        "regressions": regressions,
        "renamed": [{"from": o, "to": n, "by": "map" if RENAMED.get(o) == n else "rule+parameters"}
                    for o, n in sorted(renamed.items())],
        **lists,
    }


def _grade(verdict: str | None) -> str:
    if verdict in RED:
        return "red"
    if verdict in GREEN:
        return "green"
    if verdict == FINDING:
        return "finding"
    return "other"


def gate_passes(summary: dict[str, Any], result: dict[str, Any]) -> bool:
    """Under --fail-on new: a complete run that failed only on known failures passes the gate."""
    return (result["fail_on"] == "new" and summary.get("complete") is True and summary.get("verdict") == "fail"
            and result["regressions"] == 0)


HEADINGS = (
    ("new_failures", "new failures"), ("flaky", "flaky (verdict changed, nothing else did)"),
    ("still_failing", "still failing (known)"), ("fixed", "fixed"), ("new_findings", "new SHOULD findings"),
    ("still_findings", "SHOULD findings still there (known)"), ("fixed_findings", "SHOULD findings fixed"),
    ("not_graded_now", "failing in the baseline, not graded now (blocked, skipped or not run)"),
    ("removed", "checks gone since the baseline"),
)


def lines(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The diff for the terminal, as (text, colour) lines."""
    out = [(f"against baseline {result['source']} (run {result.get('run_id') or '?'}, "
            f"{result.get('verdict') or '?'}, {result.get('finished_at') or '?'}), fail on: {result['fail_on']}"
            + ("; same suite, spec and target: verdict changes are flaky" if result["same_run"] else ""), "")]
    counts = ", ".join(f"{len(result[key])} {title.split(' (')[0]}" for key, title in HEADINGS[:6])
    out.append((counts, ""))
    colours = {"new_failures": "red", "flaky": "yellow", "still_failing": "red", "new_findings": "yellow"}
    for key, title in HEADINGS:
        if not result[key]:
            continue
        out.append((f"{title}: {len(result[key])}", colours.get(key, "")))
        for entry in result[key][:50]:
            was = f" (was {entry['baseline_verdict']})" if "baseline_verdict" in entry and key != "removed" else ""
            renamed = f" (renamed from {entry['renamed_from']})" if entry.get("renamed_from") else ""
            if key == "removed":
                was = f" (was {entry['baseline_verdict']})"
            out.append((f"  {entry['id']}{was}{renamed}", colours.get(key, "")))
    for rename in result["renamed"]:
        out.append((f"renamed: {rename['from']} → {rename['to']} (matched by {rename['by']})", ""))
    return out
