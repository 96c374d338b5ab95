"""Keep a run's Allure results small (the HTML report of a gate run under 4 MB, Allure's own app 2.65 MB of
it): a check that failed (or is a finding, blocked, skipped) keeps every exchange; a passed check keeps none
and says how many it made (summary.json has every check's request count). Passed fixtures shared by
several checks (the seeded data sets, the session's cleanup) are left out: Allure copies a fixture's steps
into every check that used it, so they would be most of the report; their requests are in the run's
counts. A failed fixture, and the fixtures of a failed check that no other check shares, keep everything.
Passed fixtures without a step (most of them: `base_url`, `api`, …) carry no evidence and are left out too.
allure-pytest's labels of the machine and the runtime are dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLE = 0  # exchanges a passed check (or a fixture of one check) keeps: its requests are in summary.json
RED = ("failed", "broken")
# allure-pytest's labels of the machine and the runtime (the same on every check, or the thread's id): not
# evidence of anything the report is for, and copied into every check's data
NOISE_LABELS = frozenset({"host", "thread", "framework", "language"})


def _sources(step: dict[str, Any]) -> list[str]:
    found = [a["source"] for a in step.get("attachments", []) if a.get("source")]
    for child in step.get("steps", []):
        found += _sources(child)
    return found


def _sample(node: dict[str, Any], keep: int, dropped: list[str]) -> bool:
    """Keep the first `keep` top-level steps that carry exchanges; replace the others by one line."""
    steps = node.get("steps") or []
    kept: list[dict[str, Any]] = []
    cut = 0
    with_exchanges = 0
    for step in steps:
        sources = _sources(step)
        if sources and with_exchanges >= keep:
            dropped += sources
            cut += 1
            continue
        with_exchanges += bool(sources)
        kept.append(step)
    if not cut:
        return False
    at = steps[-1].get("stop") or steps[-1].get("start") or 0
    kept.append({"name": f"{cut} exchange(s), kept only when the check fails" if not keep else
                 f"… {cut} more exchange(s), kept only when the check fails", "status": "passed", "start": at,
                 "stop": at})
    node["steps"] = kept
    return True


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def trim(allure_dir: Path, keep: int = SAMPLE) -> dict[str, int]:
    """Sample the exchanges of passed checks and fixtures in place; delete the attachments dropped."""
    if not allure_dir.is_dir():
        return {"exchanges_kept": 0, "exchanges_dropped": 0}
    dropped: list[str] = []
    status: dict[str, str] = {}
    for path in allure_dir.glob("*-result.json"):
        data = _load(path)
        if data is None:
            continue
        status[str(data.get("uuid"))] = str(data.get("status"))
        labels = data.get("labels") or []
        data["labels"] = [label for label in labels if label.get("name") not in NOISE_LABELS]
        sampled = data.get("status") == "passed" and _sample(data, keep, dropped)
        if sampled or len(data["labels"]) != len(labels):
            _write(path, data)
    for path in allure_dir.glob("*-container.json"):
        data = _load(path)
        if data is None:
            continue
        children = [str(c) for c in data.get("children", [])]
        own_red = len(children) == 1 and status.get(children[0]) in RED
        shared = len(children) > 1
        changed = False
        for side in ("befores", "afters"):
            stages = data.get(side) or []
            # red stages and those of a red check of their own stay; passed ones shared by several checks go
            shown = [s for s in stages if s.get("status") in RED or own_red
                     or (not shared and (s.get("steps") or s.get("attachments")))]
            dropped += [source for s in stages if s not in shown for source in _sources(s)]
            changed = changed or len(shown) != len(stages)
            data[side] = shown
            for stage in shown:
                if stage.get("status") not in RED and not own_red:
                    changed = _sample(stage, keep, dropped) or changed
        if changed:
            _write(path, data)
    for source in dropped:
        (allure_dir / source).unlink(missing_ok=True)
    kept = sum(1 for _ in allure_dir.glob("*-attachment.*"))
    return {"exchanges_kept": kept, "exchanges_dropped": len(dropped)}
