"""Which mutants `make mutmut` runs: a sample that depends on the code and the seed alone, and that keeps a
mutant while its own line is unchanged (no cosmic-ray needed: the catalogue's mutants are plain records)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Protocol, TypeVar


class Located(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def operator(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


M = TypeVar("M", bound=Located)
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"


def select(mutants: list[M], n: int, seed: int, only: list[str], reference: Path = REFERENCE_DIR) -> list[M]:
    """The `n` mutants whose content key (file, operator, the line's code, column) hashes lowest with
    `seed`, in catalogue order; or the mutants named by `only` (ids or regular expressions). A mutant stays
    in the sample while its own line is unchanged: code added or moved elsewhere changes only the few
    mutants near the cut, so the survivors' triage carries over (a random draw over the catalogue's
    positions would change the whole sample whenever any module changed)."""
    if only:
        return [m for m in mutants if m.id in only or any(re.fullmatch(p, m.id) for p in only)]
    sources: dict[str, list[str]] = {}
    seen: dict[tuple[str, ...], int] = {}
    ranked = []
    for index, mutant in enumerate(mutants):
        if mutant.module not in sources:
            sources[mutant.module] = (reference / mutant.module).read_text(encoding="utf-8").splitlines()
        lines = sources[mutant.module]
        code = lines[mutant.line - 1].strip() if 0 < mutant.line <= len(lines) else ""
        key = (mutant.module, mutant.operator, code, str(mutant.column))
        seen[key] = seen.get(key, -1) + 1  # the same code twice in a module: told apart by their order
        digest = hashlib.sha256("\0".join((str(seed), *key, str(seen[key]))).encode()).hexdigest()
        ranked.append((digest, index))
    chosen = {index for _, index in sorted(ranked)[:n]}
    return [m for i, m in enumerate(mutants) if i in chosen]
