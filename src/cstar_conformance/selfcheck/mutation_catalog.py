"""The machine-made mutants of the reference's request-handling code: cosmic-ray's operators applied to
the modules that serve a request, each mutant with a stable id, its file, line and operator.

Mutated: the routers (`customers`, `customer_update`, `tickets`, `webhooks`), what they share (`writes`,
`paging`, `idempotency`), the request models (`models`), authentication and rate limiting (`auth`),
the unit of work and strict JSON parsing (`context`), errors and their handlers (`errors`), what goes on
the wire (`render`), webhook delivery (`delivery`), the ORM tables and the unique index (`storage`) and
the app's middleware and 405 `Allow` table (`app`). Not mutated: the fault and legal-mode registries
(`faults`, `modes`) and the process plumbing (`settings`, `__main__`, `process`, `__init__`), which
serve no request.

One kind of cosmic-ray mutant is left out by construction: an operator swapped for `|` inside a type
annotation (`str | None` → `str - None`). A type hint is no behaviour; where FastAPI or Pydantic read
it, the mutant only stops the server from starting.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cosmic_ray.ast import ast_nodes, get_ast_from_path
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator, operator_names

from cstar_conformance.selfcheck.mutation_sample import REFERENCE_DIR

MUTATED_MODULES = ("app.py", "auth.py", "context.py", "customer_update.py", "customers.py", "delivery.py",
                   "errors.py", "idempotency.py", "listing.py", "models.py", "paging.py", "render.py", "routing.py",
                   "storage.py", "tickets.py", "webhooks.py", "writes.py")
NOT_MUTATED = {"faults.py": "fault registry", "modes.py": "legal-mode registry", "settings.py": "server settings",
               **{f"faults_rt{n}_{area}.py": "red-team fault rows" for n in (1, 2)
                  for area in ("transport", "records", "lists", "events")},
               "__main__.py": "command line", "process.py": "subprocess plumbing", "__init__.py": "exports"}
UNION_IN_ANNOTATION = "core/ReplaceBinaryOperator_BitOr_"


@dataclass(frozen=True)
class Mutant:
    """One cosmic-ray mutation: `occurrence` counts the operator's positions in the module, as cosmic-ray
    does (so `apply` makes exactly this mutant)."""

    module: str  # file name under reference/
    operator: str  # cosmic-ray operator name, e.g. core/NumberReplacer
    occurrence: int
    line: int
    column: int

    @property
    def id(self) -> str:
        return f"{self.module}:{self.line}:{self.column}:{self.operator.removeprefix('core/')}#{self.occurrence}"

    @property
    def path(self) -> str:
        return f"src/cstar_conformance/reference/{self.module}"

    def mutated_source(self, source: str) -> str | None:
        """The module's source with this mutation applied (None: cosmic-ray found nothing to mutate)."""
        return mutate_code(source, get_operator(self.operator)(), self.occurrence)

    def apply(self, package_dir: Path) -> tuple[str, str]:
        """Write this mutant into the copy of the package at `package_dir`; return (original line, mutated line)."""
        path = package_dir / "reference" / self.module
        source = path.read_text(encoding="utf-8")
        mutated = self.mutated_source(source)
        if mutated is None:
            raise ValueError(f"{self.id}: cosmic-ray made no mutation (the source changed since the catalogue?)")
        with warnings.catch_warnings():  # `x is "literal"` mutants warn; they are run like any other
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(mutated, str(path), "exec")  # SyntaxError: `{**d}` → `{*d}` and the like never start
        path.write_text(mutated, encoding="utf-8")
        return changed_lines(source, mutated, self.line)


def changed_lines(source: str, mutated: str, line: int) -> tuple[str, str]:
    """The mutated statement's first line before and after (cosmic-ray keeps the line structure)."""
    before, after = source.splitlines(), mutated.splitlines()
    return before[line - 1].strip(), after[line - 1].strip() if line - 1 < len(after) else ""


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every type annotation, as (line, character column) like cosmic-ray's positions."""
    lines = source.splitlines()

    def char_col(line: int, byte_col: int) -> int:
        return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            annotations += [a.annotation for a in every if a is not None] + [node.returns]
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None and annotation.end_lineno is not None and annotation.end_col_offset is not None:
                spans.append(((annotation.lineno, char_col(annotation.lineno, annotation.col_offset)),
                              (annotation.end_lineno, char_col(annotation.end_lineno, annotation.end_col_offset))))
    return spans


def _module_mutants(module: str, reference: Path) -> Iterator[tuple[Mutant, bool]]:
    """Every cosmic-ray mutant of one module, and whether it is a union inside a type annotation."""
    path = reference / module
    tree = get_ast_from_path(path)
    spans = _annotation_spans(path.read_text(encoding="utf-8"))
    for operator_name in sorted(operator_names()):
        operator_class = get_operator(operator_name)
        if operator_class.arguments():  # parameterised operators (variable replacer/inserter) need a config
            continue
        operator = operator_class()
        positions = (start for node in ast_nodes(tree) for start, _end in operator.mutation_positions(node))
        for occurrence, (line, column) in enumerate(positions):
            in_annotation = operator_name.startswith(UNION_IN_ANNOTATION) and any(
                start <= (line, column) < end for start, end in spans)
            yield Mutant(module, operator_name, occurrence, line, column), in_annotation


def catalogue(modules: tuple[str, ...] = MUTATED_MODULES, reference: Path = REFERENCE_DIR,
              ) -> tuple[list[Mutant], list[Mutant]]:
    """(the mutants, the unions in annotations left out) of the reference package at `reference`, in a
    fixed order."""
    kept: list[Mutant] = []
    left_out: list[Mutant] = []
    for module in modules:
        for mutant, in_annotation in _module_mutants(module, reference):
            (left_out if in_annotation else kept).append(mutant)
    return kept, left_out
