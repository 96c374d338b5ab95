"""The machine-made mutation run's own parts (`make mutmut`): how a suite run is judged, the survivors'
triage file, and — where the `mutation` extra is installed — the cosmic-ray catalogue and its copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstar_conformance.selfcheck import mutation_triage as triage
from cstar_conformance.selfcheck.mutation_suite import DID_NOT_START, judge, package_copy


def _summary(*checks: tuple[str, str, list[str]]) -> dict[str, object]:
    return {"checks": [{"test": t, "verdict": v, "rules": r} for t, v, r in checks]}


def test_a_green_run_with_no_red_check_is_green() -> None:
    assert judge("clean", 0, _summary(("t", "passed", ["X"])), "", 1.0).outcome == "green"


def test_a_failed_must_check_or_a_should_finding_is_red() -> None:
    assert judge("clean", 1, _summary(("t", "failed", ["X"])), "", 1.0).red == ["t [failed]"]
    assert judge("clean", 0, _summary(("t", "finding", ["X"])), "", 1.0).outcome == "red"


def test_the_finding_a_below_should_mode_must_raise_is_not_a_kill() -> None:
    expected = ("t", "finding", ["PATCH-CUSTOMFIELDS-MERGE"])
    assert judge("below-should", 0, _summary(expected), "", 1.0).outcome == "green"
    assert judge("below-should", 0, _summary(expected, ("u", "finding", ["Y"])), "", 1.0).outcome == "red"


def test_a_reference_that_never_starts_is_not_viable_and_a_refused_server_is_red() -> None:
    assert judge("clean", 10, {}, f"cstar: {DID_NOT_START}: boom", 1.0).outcome == "not-viable"
    assert judge("clean", 4, {}, "ImportError while loading conftest", 1.0).outcome == "not-viable"
    assert judge("clean", 11, {}, "cstar: target refused the key (401)", 1.0).red == ["preflight (exit 11)"]
    assert judge("edge", 14, {}, "cstar: budget exhausted: answered 429 6 times", 1.0).outcome == "red"


def test_triage_rows_are_found_again_by_file_operator_and_lines(tmp_path: Path) -> None:
    row = triage.row("paging.py:44:19:AddNot#5", "clean", "a | b", "not a | b", "equivalent: why")
    (tmp_path / "t.md").write_text(f"# survivors\n\n| mutant | mode | change | verdict |\n|---|---|---|---|\n{row}\n")
    verdicts = triage.load(tmp_path / "t.md")
    path = "src/cstar_conformance/reference/paging.py"
    assert triage.verdict_for(verdicts, path, "core/AddNot", "a | b", "not a | b") == "equivalent: why"
    assert triage.verdict_for(verdicts, path, "core/AddNot", "a | b", "a | not b") is None


def test_the_copy_holds_the_package_and_suites_but_not_the_working_tree() -> None:
    with package_copy() as root:
        assert (root / "src" / "cstar_conformance" / "reference" / "paging.py").is_file()
        assert (root / "suites" / "scenarios").is_dir() and not (root / "suites").is_symlink()
        assert (root / "openapi" / "customers.yaml").is_file()
    assert not root.exists()


def test_catalogue_is_stable_leaves_out_annotation_unions_and_applies_to_a_copy() -> None:
    pytest.importorskip("cosmic_ray")
    from cstar_conformance.selfcheck.mutation_catalog import catalogue

    kept, left_out = catalogue(("customer_update.py",))
    assert [m.id for m in kept] == [m.id for m in catalogue(("customer_update.py",))[0]]
    assert len({m.id for m in kept}) == len(kept)
    assert left_out and all("BitOr" in m.operator for m in left_out)
    merge = next(m for m in kept if m.operator.endswith("BitOr_Sub"))  # a dict merge `|` is kept: it is code
    with package_copy() as root:
        original, mutated = merge.apply(root / "src" / "cstar_conformance")
        assert " | " in original and " - " in mutated
        assert original in (Path(__file__).parents[2] / merge.path).read_text()


def test_a_survivor_triaged_killed_in_another_mode_names_a_mode_the_line_reaches() -> None:
    pytest.importorskip("cosmic_ray")
    from cstar_conformance.selfcheck.mutation import KILLED_IN_MODE
    from cstar_conformance.selfcheck.mutation_coverage import mode_for, modes_for

    assert KILLED_IN_MODE.match("killed in mode `edge`: there nothing is delivered").group(1) == "edge"
    assert KILLED_IN_MODE.match("equivalent (same behaviour): …") is None
    lines = {"clean": {"paging.py": [3, 4]}, "edge": {"paging.py": [4, 5]}, "alt": {}}
    assert modes_for("paging.py", 4, lines) == ["clean", "edge"] and mode_for("paging.py", 4, lines) == "clean"
    assert modes_for("paging.py", 5, lines) == ["edge"] and mode_for("paging.py", 9, lines) is None


def test_red_checks_are_confirmed_by_their_node_ids_and_a_refused_preflight_needs_none() -> None:
    from cstar_conformance.selfcheck.mutation_suite import red_nodes

    red = ["suites/scenarios/test_a.py::test_x[p] [failed]", "suites/contract/test_c.py::test_op[GET /c] [failed]",
           "preflight (exit 10)", "suites/scenarios/test_a.py::test_x[p] [error]"]
    assert red_nodes(red) == ("suites/scenarios/test_a.py::test_x[p]", "suites/contract/test_c.py")
    assert red_nodes(["budget exhausted (exit 14)"]) == ()


def test_the_sample_keeps_a_mutant_while_its_line_is_unchanged_when_code_moves_or_grows(tmp_path: Path) -> None:
    from dataclasses import dataclass, replace

    from cstar_conformance.selfcheck.mutation_sample import select

    @dataclass(frozen=True)
    class M:
        module: str
        operator: str
        line: int
        column: int

        @property
        def id(self) -> str:
            return f"{self.module}:{self.line}:{self.column}:{self.operator}"

    code = [f"x{i} = {i} + 1" for i in range(200)]
    (tmp_path / "a.py").write_text("\n".join(code) + "\n")
    mutants = [M("a.py", op, line, 8) for line in range(1, 201) for op in ("core/NumberReplacer", "core/Add_Sub")]
    first = select(mutants, 40, 7, [], reference=tmp_path)
    assert len(first) == 40 and first == select(mutants, 40, 7, [], reference=tmp_path)
    assert first != select(mutants, 40, 8, [], reference=tmp_path)  # another seed, another sample
    # ten lines added at the top of the module: every mutant moves ten lines down, none changes
    (tmp_path / "a.py").write_text("\n".join(["pass"] * 10 + code) + "\n")
    moved = [replace(m, line=m.line + 10) for m in mutants]
    assert [m.line - 10 for m in select(moved, 40, 7, [], reference=tmp_path)] == [m.line for m in first]
    # a second module with 100 mutants of its own: most of the first sample stays (only the cut moves)
    (tmp_path / "b.py").write_text("\n".join(f"y{i} = {i}" for i in range(100)) + "\n")
    grown = select([*moved, *(M("b.py", "core/NumberReplacer", line, 5) for line in range(1, 101))], 40, 7, [],
                   reference=tmp_path)
    kept = {m.line - 10 for m in grown if m.module == "a.py"} & {m.line for m in first}
    assert len(kept) >= 20 and len(grown) == 40
    assert [m.id for m in select(mutants, 40, 7, ["a.py:3:8:.*"], reference=tmp_path)] == [
        "a.py:3:8:core/NumberReplacer", "a.py:3:8:core/Add_Sub"]
