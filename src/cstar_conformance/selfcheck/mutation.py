"""Machine-made mutants as a standing measure of the suite (`make mutmut`).

cosmic-ray's operators make the mutants of the reference's request-handling code (:mod:`.mutation_catalog`);
each sampled mutant is written into a private copy of the package and the conformance suite runs against a
reference started from that copy, in a legal mode whose run executes the mutated line
(:mod:`.mutation_coverage`, :mod:`.mutation_suite`). The suite runs in two stages: the quick one (the
scenarios, profile smoke, stopping at the first red check, without the plugins they do not use) kills most
mutants; a mutant it leaves green is run again by the whole gate as users run it (all suites, profile
gate), so a survivor is green under the full suite. A red check is run once more alone before it counts:
on a loaded machine a timing check can go red by itself, and a red that does not come back is not a kill.
Outcomes:

- killed: the suite went red (exit 1, a red check, or the preflight refused the started server); `stage`
  says which stage killed it;
- survived: both stages stayed green; `equivalent` when docs/mutation-survivors.md says so, with why;
- not-viable: the reference never became ready (or the run could not start); timeout: no verdict in time;
- unreached: no mode's run executes the line (listed, not run, not in the rate).

Kill rate = killed / (run − equivalent − not viable). Results: reports/mutation.json (every mutant) and
reports/mutation-session.sqlite (cosmic-ray's own session format: `cr-report` reads it). The last line
printed gives the kill rate.

    python -m cstar_conformance.selfcheck.mutation [--n N] [--seed 20261129] [--jobs 3] [--only ID ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from threading import Lock

from cstar_conformance.selfcheck import mutation_triage as triage
from cstar_conformance.selfcheck.mutants import ROOT
from cstar_conformance.selfcheck.mutation_catalog import MUTATED_MODULES, NOT_MUTATED, Mutant, catalogue
from cstar_conformance.selfcheck.mutation_coverage import mode_lines, modes_for
from cstar_conformance.selfcheck.mutation_sample import select
from cstar_conformance.selfcheck.mutation_suite import (
    SUITES,
    SuiteOptions,
    confirm,
    imported_from,
    package_copy,
    run_suite,
)

TOOL = f"cosmic-ray {version('cosmic-ray')}"
DEFAULT_N = 150
DEFAULT_SEED = 20261129
OUTCOME = {"red": "killed", "green": "survived", "not-viable": "not-viable", "timeout": "timeout"}


@dataclass
class Result:
    id: str
    file: str
    line: int
    operator: str
    mode: str
    outcome: str  # killed | survived | equivalent | not-viable | timeout
    seconds: float
    original: str = ""
    mutated: str = ""
    red: list[str] | None = None  # the red checks that killed it (the first, with -x)
    detail: str = ""  # why not viable / timed out, or the triage's word on a survivor
    stage: str = ""  # the last stage run: quick | full


def run_mutant(mutant: Mutant, mode: str, quick: SuiteOptions, full: SuiteOptions | None, base: Path) -> Result:
    """The quick stage, then (when it stays green and `full` is given) the full stage, on one copy."""
    started = time.monotonic()
    with package_copy(base) as root:
        try:
            original, mutated = mutant.apply(root / "src" / "cstar_conformance")
        except (ValueError, SyntaxError) as exc:
            return Result(mutant.id, mutant.path, mutant.line, mutant.operator, mode, "not-viable",
                          round(time.monotonic() - started, 1), detail=f"{type(exc).__name__}: {exc}")
        stage, verdict = "quick", confirm(mode, quick, root, run_suite(mode, quick, root))
        if verdict.outcome == "green" and full is not None:
            unconfirmed = verdict.detail
            stage, verdict = "full", confirm(mode, full, root, run_suite(mode, full, root))
            verdict.detail = "; ".join(d for d in (unconfirmed, verdict.detail) if d)
    return Result(mutant.id, mutant.path, mutant.line, mutant.operator, mode, OUTCOME[verdict.outcome],
                  round(time.monotonic() - started, 1), original, mutated, verdict.red[:3] or None, verdict.detail,
                  stage)


def control(options: SuiteOptions, base: Path) -> str | None:
    """The machinery on the unmutated code: the copy is what a run imports, and the clean mode is green."""
    with package_copy(base) as root:
        where = imported_from(root)
        if not where.startswith(str(root)):
            return f"a run in the copy imports the reference from {where or '?'}, not from the copy"
        verdict = run_suite("clean", options, root)
    if verdict.outcome != "green":
        return f"the unmutated reference is not green ({verdict.outcome}: {', '.join(verdict.red) or verdict.detail})"
    print(f"control: the unmutated copy is green in mode clean ({verdict.seconds:.0f} s)", flush=True)
    return None


def run_in_modes(mutant: Mutant, modes: list[str], quick: SuiteOptions, full: SuiteOptions | None,
                 base: Path) -> Result:
    """The mutant in each of `modes` in turn, until one kills it (or it does not run)."""
    result = run_mutant(mutant, modes[0], quick, full, base)
    for mode in modes[1:]:
        if result.outcome != "survived":
            break
        again = run_mutant(mutant, mode, quick, full, base)
        again.seconds = round(again.seconds + result.seconds, 1)
        result = again
    if result.outcome == "survived" and len(modes) > 1:
        result.detail = f"green in modes {', '.join(modes)}"
    return result


def run_all(sample: list[Mutant], reachable: dict[str, list[str]], quick: SuiteOptions, full: SuiteOptions | None,
            jobs: int, base: Path) -> list[Result]:
    """Each mutant of `sample` in its modes (`reachable`: id → the modes to try, in order)."""
    done, lock, started = [0], Lock(), time.monotonic()

    def one(mutant: Mutant) -> Result:
        result = run_in_modes(mutant, reachable[mutant.id], quick, full, base)
        with lock:
            done[0] += 1
            elapsed = time.monotonic() - started
            print(f"[{done[0]:3d}/{len(sample)} {elapsed / 60:4.1f} min] {result.outcome:10} {result.id} "
                  f"({result.mode}, {result.stage}, {result.seconds:.0f} s) {(result.red or [''])[0][:80]}",
                  flush=True)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, sample))


KILLED_IN_MODE = re.compile(r"killed in mode `?([a-z-]+)`?")


def second_chance(results: list[Result], sample: list[Mutant], every_mode: dict[str, list[str]],
                  verdicts: dict[triage.Key, str], quick: SuiteOptions, full: SuiteOptions | None, jobs: int,
                  base: Path) -> list[Result]:
    """Survivors the triage says another mode kills ("killed in mode `edge`: …") run in that mode, so the
    claim is proven by every run (a mutant runs first in the cheapest mode only)."""
    by_id = {m.id: m for m in sample}
    wanted: dict[str, list[str]] = {}
    for r in results:
        verdict = triage.verdict_for(verdicts, r.file, r.operator, r.original, r.mutated) or ""
        match = KILLED_IN_MODE.match(verdict)
        if r.outcome == "survived" and match and match.group(1) in every_mode.get(r.id, []):
            wanted[r.id] = [match.group(1)]
    if not wanted:
        return results
    print(f"running {len(wanted)} survivors again in the mode their triage says kills them", flush=True)
    fresh = {r.id: r for r in run_all([by_id[i] for i in wanted], wanted, quick, full, jobs, base)}
    for r in results:
        if r.id in fresh:
            fresh[r.id].seconds = round(fresh[r.id].seconds + r.seconds, 1)
    return [fresh.get(r.id, r) for r in results]


def write_session(path: Path, mutants: list[Mutant], results: list[Result]) -> None:
    """cosmic-ray's session database: every catalogued mutant, with a result for those run."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import MutationSpec, TestOutcome, WorkerOutcome, WorkItem, WorkResult

    outcome = {"killed": TestOutcome.KILLED, "survived": TestOutcome.SURVIVED, "equivalent": TestOutcome.SURVIVED,
               "not-viable": TestOutcome.INCOMPETENT, "timeout": TestOutcome.INCOMPETENT}
    path.unlink(missing_ok=True)
    by_id = {r.id: r for r in results}
    with use_db(str(path), WorkDB.Mode.create) as db:
        db.add_work_items(WorkItem.single(m.id, MutationSpec(m.path, m.operator, m.occurrence, (m.line, m.column),
                                                              (m.line, m.column + 1))) for m in mutants)
        for job_id, r in by_id.items():
            db.set_result(job_id, WorkResult(worker_outcome=WorkerOutcome.NORMAL, test_outcome=outcome[r.outcome],
                                             output=r.detail or ", ".join(r.red or []),
                                             diff=f"- {r.original}\n+ {r.mutated}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=DEFAULT_N, help=f"mutants sampled (default {DEFAULT_N})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"sampling seed (default {DEFAULT_SEED})")
    parser.add_argument("--jobs", type=int, default=3, help="suite runs in parallel (default 3)")
    parser.add_argument("--profile", default="smoke", help="the quick stage's profile (default smoke)")
    parser.add_argument("--suite", choices=tuple(SUITES), default="scenarios",
                        help="the quick stage's suites (default scenarios)")
    parser.add_argument("--full-profile", default="gate", help="the full stage's profile (default gate)")
    parser.add_argument("--full-suite", choices=tuple(SUITES), default="all",
                        help="the full stage's suites (default all)")
    parser.add_argument("--no-full", action="store_true",
                        help="no full stage: a mutant the quick stage leaves green survives")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a mutant's suite run may take")
    parser.add_argument("--only", action="append", default=[], help="run these mutant ids (or regexes) only")
    parser.add_argument("--triage", default=str(ROOT / "docs" / "mutation-survivors.md"))
    parser.add_argument("--output", default=str(ROOT / "reports" / "mutation.json"))
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run again only the survivors (and timeouts) of the run in --output, with its sample, "
                             "and merge: the check after tests were added for survivors")
    options = parser.parse_args(argv)
    output = Path(options.output)
    previous: dict[str, Result] = {}
    if options.rerun_survivors:
        last = json.loads(output.read_text())
        options.n, options.seed = last["n"], last["seed"]
        options.profile, options.suite = last["profile"], last["suite"]
        full = last.get("full")
        options.no_full = full is None
        options.full_profile, options.full_suite = (full["profile"], full["suite"]) if full else (None, None)
        previous = {r["id"]: Result(**(r | {"outcome": "survived" if r["outcome"] == "equivalent" else r["outcome"]}))
                    for r in last["mutants"] if r["outcome"] != "unreached"}
    with package_copy(ROOT, prefix="cstar-mutation-base-") as base:  # the tree as it is now, for the whole run
        return run(options, previous, base)


def run(options: argparse.Namespace, previous: dict[str, Result], base: Path) -> int:
    started = time.monotonic()
    output = Path(options.output)
    quick = SuiteOptions(options.profile, options.suite, options.timeout, first_failure=True, lean=True)
    full = None if options.no_full else SuiteOptions(options.full_profile, options.full_suite, options.timeout,
                                                     first_failure=True)
    verdicts = triage.load(Path(options.triage))
    reference = base / "src" / "cstar_conformance" / "reference"
    mutants, left_out = catalogue(reference=reference)
    print(f"{TOOL}: {len(mutants)} mutants of {len(MUTATED_MODULES)} modules "
          f"({len(left_out)} unions in type annotations left out)", flush=True)
    modes = mode_lines(full or quick, output.with_name("mutation-coverage.json"), options.jobs, base)
    every_mode = {m.id: found for m in mutants if (found := modes_for(m.module, m.line, modes))}
    reachable = {mutant_id: found[:1] for mutant_id, found in every_mode.items()}  # the cheapest mode first
    drawn = select(mutants, options.n, options.seed, options.only, reference)
    sample = [m for m in drawn if m.id in reachable]
    unreached = [m for m in drawn if m.id not in reachable]
    print(f"{len(reachable)} of {len(mutants)} on lines some mode executes; sampled {len(drawn)} (seed "
          f"{options.seed}): {len(sample)} to run with {options.jobs} jobs, {len(unreached)} on lines no mode "
          f"executes", flush=True)
    problem = control(quick, base)
    if problem:
        print(f"mutation: {problem}", file=sys.stderr)
        return 2
    if previous:
        def settled(r: Result) -> bool:
            verdict = triage.verdict_for(verdicts, r.file, r.operator, r.original, r.mutated) or ""
            return r.outcome in ("killed", "not-viable") or verdict.startswith("equivalent")
        again = [m for m in sample if m.id not in previous or not settled(previous[m.id])]
        print(f"running again {len(again)} survivors (not triaged equivalent) and timeouts of the last run, in "
              f"every mode that executes their line", flush=True)
        fresh = {r.id: r for r in run_all(again, every_mode, quick, full, options.jobs, base)}
        results = [fresh.get(m.id) or previous[m.id] for m in sample]
    else:
        results = run_all(sample, reachable, quick, full, options.jobs, base)
        results = second_chance(results, sample, every_mode, verdicts, quick, full, options.jobs, base)
    for r in results:
        if r.outcome == "survived":
            verdict = triage.verdict_for(verdicts, r.file, r.operator, r.original, r.mutated) or "untriaged"
            r.detail = " | ".join(d for d in (verdict, r.detail) if d)
            if r.detail.startswith("equivalent"):
                r.outcome = "equivalent"
    report(options, mutants, left_out, len(reachable), drawn, unreached, results, time.monotonic() - started)
    return 0


def report(options: argparse.Namespace, mutants: list[Mutant], left_out: list[Mutant], reachable: int,
           drawn: list[Mutant], unreached: list[Mutant], results: list[Result], wall: float) -> None:
    output = Path(options.output)
    counts = {o: sum(r.outcome == o for r in results)
              for o in ("killed", "survived", "equivalent", "not-viable", "timeout")}
    judged = len(results) - counts["equivalent"] - counts["not-viable"]
    rate = counts["killed"] / judged if judged else 0.0
    data = {
        "tool": TOOL, "modules": list(MUTATED_MODULES), "not_mutated": NOT_MUTATED, "generated": len(mutants),
        "annotation_unions_left_out": len(left_out), "reachable": reachable, "sampled": len(drawn),
        "unreached": len(unreached), "run": len(results), "seed": options.seed, "n": options.n,
        "profile": options.profile, "suite": options.suite, "jobs": options.jobs,
        "full": None if options.no_full else {"profile": options.full_profile, "suite": options.full_suite},
        "killed_by_stage": {stage: sum(r.outcome == "killed" and r.stage == stage for r in results)
                            for stage in ("quick", "full")},
        "seconds_per_mutant": round(sum(r.seconds for r in results) / len(results), 1) if results else 0.0,
        **counts, "kill_rate": round(rate, 4), "seconds": round(wall, 1),
        "mutants": [asdict(r) for r in results]
        + [asdict(Result(m.id, m.path, m.line, m.operator, "", "unreached", 0.0)) for m in unreached],
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=1) + "\n")
    write_session(output.with_name("mutation-session.sqlite"), mutants, results)
    survivors = [r for r in results if r.outcome == "survived"]
    if survivors:
        print("\nsurvivors (triage them in docs/mutation-survivors.md):")
        for r in survivors:
            print(f"  {triage.row(r.id, r.mode, r.original, r.mutated, r.detail)}")
    print(f"\n{len(results)} run: {counts['killed']} killed, {counts['survived']} survived, {counts['equivalent']} "
          f"equivalent, {counts['not-viable']} not viable, {counts['timeout']} timeout; {len(unreached)} of the "
          f"{len(drawn)} sampled on lines no mode executes (not run); {wall / 60:.1f} min; {output}")
    print(f"kill rate: {100 * rate:.1f}% = {counts['killed']} killed / ({len(results)} run − {counts['equivalent']} "
          f"equivalent − {counts['not-viable']} not viable)")


if __name__ == "__main__":
    raise SystemExit(main())
