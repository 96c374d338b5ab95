"""The reference package's shape: every module imports only modules of lower layers (so there is no
cycle), and no module grows past ~400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import cstar_conformance.reference as package

ROOT = Path(package.__file__).parent
# lower layers first; a module may import only modules of strictly lower layers
LAYERS: list[set[str]] = [
    {"faults_rt1_transport", "faults_rt1_records", "faults_rt1_lists", "faults_rt1_events",
     "faults_rt2_transport", "faults_rt2_records", "faults_rt2_lists", "faults_rt2_events"},  # red-team rows
    {"faults", "modes"},  # registries: rules only
    {"settings", "storage"},
    {"render"},
    {"errors", "models", "delivery"},
    {"auth"},
    {"context"},
    {"writes", "paging", "idempotency"},
    {"customer_update", "routing", "listing"},
    {"customers", "tickets", "webhooks"},
    {"app"},
    {"process"},
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_LINES = 400


def local_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cstar_conformance.reference."):
            found.add(node.module.split(".")[2])  # type: ignore[union-attr]
    return found


def test_every_module_has_a_layer() -> None:
    modules = {path.stem for path in ROOT.glob("*.py")} - {"__init__"}
    assert modules == set(RANK), f"modules without a layer / layers without a module: {modules ^ set(RANK)}"


def test_modules_import_only_lower_layers() -> None:
    wrong = [f"{path.stem} → {name}" for path in ROOT.glob("*.py") if path.stem != "__init__"
             for name in local_imports(path) if RANK[name] >= RANK[path.stem]]
    assert not wrong, f"imports against the layering (possible cycles): {wrong}"


def test_no_module_is_over_400_lines() -> None:
    long = {path.name: n for path in ROOT.glob("*.py") if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
