"""Conformance levels applied to test outcomes: MUST failures fail the run, SHOULD failures are
warning findings (failures only with --strict), MAY alternatives are never failures."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cstar_conformance.rules import Level, Rule, rule

_RANK = {Level.MUST: 3, Level.SHOULD: 2, Level.MAY: 1}


@dataclass(frozen=True)
class Grade:
    rules: tuple[Rule, ...]

    @property
    def level(self) -> Level | None:
        """The strongest level among the rules (a MUST rule makes the check a MUST check)."""
        if not self.rules:
            return None
        return max((r.level for r in self.rules), key=_RANK.__getitem__)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def label(self) -> str:
        return f"{self.level.value if self.level else '-'} {', '.join(self.ids)}".strip()


def grade_of(item: pytest.Item) -> Grade:
    """The rules a test names with @pytest.mark.rule("ID", ...)."""
    ids: list[str] = []
    for mark in item.iter_markers("rule"):
        ids += [str(a) for a in mark.args]
    return Grade(tuple(rule(i) for i in dict.fromkeys(ids)))


def is_finding(level: Level | None, strict: bool) -> bool:
    """Whether a failure at this level is a warning finding rather than a failure of the run."""
    return level is Level.SHOULD and not strict

