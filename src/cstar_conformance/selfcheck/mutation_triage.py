"""The survivors' triage (docs/mutation-survivors.md): one table row per surviving mutant, found again by
its file, operator and the line before and after the mutation (so the row holds when lines move), with
its verdict: ``equivalent: why`` or ``test added: which``.

    | `customers.py:88:20:NumberReplacer#12` | clean | `x = 1` → `x = 2` | equivalent: why |
"""

from __future__ import annotations

import re
from pathlib import Path

ROW = re.compile(r"^\|(.*)\|\s*$")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
ARROW = " → "

Key = tuple[str, str, str, str]  # module file name, operator, original line, mutated line


def _escape(code: str) -> str:
    return code.replace("|", "\\|")


def _unescape(cell: str) -> str:
    return cell.strip().strip("`").replace("\\|", "|")


def row(mutant_id: str, mode: str, original: str, mutated: str, verdict: str) -> str:
    return f"| `{mutant_id}` | {mode} | `{_escape(original)}`{ARROW}`{_escape(mutated)}` | {verdict} |"


def _key(mutant_id: str, original: str, mutated: str) -> Key:
    module, _line, _col, rest = mutant_id.split(":", 3)
    operator = "core/" + rest.split("#", 1)[0]
    return module, operator, original, mutated


def load(path: Path) -> dict[Key, str]:
    """Verdicts by key from the triage file's table rows (a missing file: none)."""
    verdicts: dict[Key, str] = {}
    if not path.exists():
        return verdicts
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if not match:
            continue
        cells = [c.strip() for c in CELL_SPLIT.split(match.group(1))]
        if len(cells) < 4 or not cells[0].startswith("`") or ARROW not in cells[2]:
            continue
        original, mutated = cells[2].split(ARROW, 1)
        verdicts[_key(cells[0].strip("`"), _unescape(original), _unescape(mutated))] = cells[3]
    return verdicts


def verdict_for(verdicts: dict[Key, str], path: str, operator: str, original: str, mutated: str) -> str | None:
    return verdicts.get((Path(path).name, operator, original, mutated))
