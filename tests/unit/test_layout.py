"""The package's layers and their import rules (ARCHITECTURE.md): the runtime library a gate run imports,
the embedded reference, and the self-proof tools — read from the code's own imports."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "cstar_conformance"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every cstar_conformance module this file imports (at any depth, type-checking imports included)."""
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("cstar_conformance")}


@cache
def _modules(layer: str) -> dict[str, set[str]]:
    root = PACKAGE / layer if layer else PACKAGE
    files = root.rglob("*.py") if layer else root.glob("*.py")
    return {_module_name(p): _imports(p) for p in files}


def test_the_runtime_library_never_imports_the_self_proof_tools() -> None:
    bad = {m: sorted(i for i in imports if i.startswith("cstar_conformance.selfcheck"))
           for m, imports in _modules("").items()}
    assert not {m: i for m, i in bad.items() if i}


def test_the_runtime_reaches_the_reference_only_through_its_process_starter() -> None:
    allowed = {"cstar_conformance.reference", "cstar_conformance.reference.process"}
    bad = {m: sorted(i for i in imports if i.startswith("cstar_conformance.reference") and i not in allowed
                     and not i.startswith("cstar_conformance.reference.process."))
           for m, imports in _modules("").items()}
    assert not {m: i for m, i in bad.items() if i}


def test_the_reference_imports_only_the_rules_catalogue_from_the_library() -> None:
    bad = {m: sorted(i for i in imports if not i.startswith("cstar_conformance.reference")
                     and not i.startswith("cstar_conformance.rules"))
           for m, imports in _modules("reference").items()}
    assert not {m: i for m, i in bad.items() if i}


def test_no_import_cycle_between_runtime_modules() -> None:
    runtime = _modules("")
    graph = {m: {i for i in imports if i in runtime and i != m} for m, imports in runtime.items()}
    seen: dict[str, int] = {}  # 1 = on the stack, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt, [*stack, nxt])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert not cycles, cycles


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_the_contract_model_is_pure() -> None:
    """The model imports nothing of the suite's shell (no pytest, no HTTP, no session): only the rules catalogue
    and itself, so that it is tested with plain values."""
    shell = {"pytest", "httpx", "requests", "schemathesis", "hypothesis", "werkzeug", "pytest_httpserver"}
    bad = {}
    for path in (PACKAGE / "model").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
        names |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        ours = {i for i in _imports(path) if not i.startswith(("cstar_conformance.model", "cstar_conformance.rules"))}
        if names & shell or ours:
            bad[path.name] = sorted(names & shell) + sorted(ours)
    assert not bad, bad
