"""Traceability: every contract rule with the suite tests and the reference faults that cover it.

    python -m cstar_conformance.selfcheck.trace          # table; exit 1 if a MUST rule lacks a test or a fault
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import defaultdict
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from cstar_conformance.levels import grade_of
from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.rules import RULES, Level

ROOT = Path(__file__).resolve().parents[3]


class _Collector:
    def __init__(self) -> None:
        self.tests: dict[str, list[str]] = defaultdict(list)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for rule_id in grade_of(item).ids:
                self.tests[rule_id].append(item.nodeid)


def collect_tests() -> dict[str, list[str]]:
    """Rule id → suite test ids, from pytest's own collection (no target is started), in a process of its own:
    a pytest session inside another one (a test of this project) would meet that session's conftest modules."""
    result = subprocess.run([sys.executable, "-m", "cstar_conformance.selfcheck.trace", "--collect"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip() or f"collecting the suite failed with status {result.returncode}")
    return dict(json.loads(result.stdout))


def _collect_here() -> dict[str, list[str]]:
    collector = _Collector()
    output = io.StringIO()
    with redirect_stdout(output):
        status = pytest.main([str(ROOT / "suites"), "--collect-only", "-q", "-p", "no:cacheprovider",
                              "-o", "cstar_reports_dir=" + str(ROOT / "reports" / ".collect")],
                             plugins=[collector])
    if status not in (0, 5):
        tail = "\n".join(output.getvalue().strip().splitlines()[-15:])
        raise SystemExit(f"collecting the suite failed with status {status}:\n{tail}")
    return dict(collector.tests)


def matrix() -> list[dict[str, object]]:
    tests = collect_tests()
    faults: dict[str, list[str]] = defaultdict(list)
    for fault in FAULTS:
        for rule_id in fault.rules:
            faults[rule_id].append(fault.name)
    rows = []
    for rule in RULES:
        gap = []
        if rule.level is not Level.MAY:
            if not tests.get(rule.id):
                gap.append("no test")
            if not faults.get(rule.id):
                gap.append("no fault")
        rows.append({"rule": rule.id, "level": rule.level.value, "tests": tests.get(rule.id, []),
                     "faults": faults.get(rule.id, []), "gaps": gap})
    return rows


def main(argv: list[str] | None = None) -> int:
    if argv and "--collect" in argv:
        print(json.dumps(_collect_here()))
        return 0
    rows = matrix()
    if argv and "--json" in argv:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'rule':32} {'level':6} {'tests':>5} {'faults':>6}  gaps / faults")
        for row in rows:
            gaps = ", ".join(row["gaps"])  # type: ignore[arg-type]
            names = ", ".join(row["faults"])  # type: ignore[arg-type]
            print(f"{row['rule']:32} {row['level']:6} {len(row['tests']):5d} {len(row['faults']):6d}  "  # type: ignore[arg-type]
                  f"{('GAP: ' + gaps + '  ') if gaps else ''}{names[:80]}")
    must_gaps = [r["rule"] for r in rows if r["gaps"] and r["level"] == "MUST"]
    should_gaps = [r["rule"] for r in rows if r["gaps"] and r["level"] == "SHOULD"]
    print(f"\n{len(rows)} rules; MUST rules without a test or a fault: {', '.join(must_gaps) or 'none'}; "
          f"SHOULD rules without: {', '.join(should_gaps) or 'none'}", file=sys.stderr)
    return 1 if must_gaps else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
