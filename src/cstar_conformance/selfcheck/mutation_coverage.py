"""Which lines of the reference each legal mode's run executes: the suite once per mode with coverage.py
inside the reference server (a `sitecustomize` on PYTHONPATH starts it in every Python process of the
run, as coverage.py documents for subprocesses). A mutant is run against a mode that executes its line;
a mutant on a line no mode executes is reported on its own. Cached by the content of the code and suites.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import coverage

from cstar_conformance.selfcheck.mutants import ROOT
from cstar_conformance.selfcheck.mutation_catalog import REFERENCE_DIR
from cstar_conformance.selfcheck.mutation_suite import MODES, SuiteOptions, Verdict, run_suite

SITECUSTOMIZE = "import coverage\ncoverage.process_startup()\n"
Lines = dict[str, dict[str, list[int]]]  # mode → module file name → executed lines


def fingerprint(options: SuiteOptions, root: Path = ROOT) -> str:
    """Changes with the library and reference, the suites, the spec and the suite options."""
    digest = hashlib.sha256(repr((options.profile, options.suite)).encode())
    library = [p for p in (root / "src").rglob("*.py") if "selfcheck" not in p.parts]
    suites = [*(root / "suites").rglob("*.py"), *root.glob("conftest.py"), *(root / "openapi").glob("*.yaml")]
    files = sorted([*library, *suites])
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _measure(mode: str, options: SuiteOptions, root: Path) -> tuple[dict[str, list[int]], Verdict]:
    reference = root / "src" / REFERENCE_DIR.relative_to(ROOT / "src")
    with tempfile.TemporaryDirectory(prefix="cstar-mutation-coverage-") as tmp:
        hook, data = Path(tmp) / "hook", Path(tmp) / "data"
        hook.mkdir()
        data.mkdir()
        (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
        rcfile = Path(tmp) / "coveragerc"
        rcfile.write_text(f"[run]\nsource = {reference}\nparallel = true\ndata_file = {data / '.coverage'}\n")
        verdict = run_suite(mode, SuiteOptions(options.profile, options.suite, options.timeout, first_failure=False),
                            root, pythonpath=(hook,), env={"COVERAGE_PROCESS_START": str(rcfile)})
        combined = coverage.Coverage(data_file=str(data / ".coverage"), config_file=str(rcfile))
        combined.combine([str(data)], keep=False)
        measured = combined.get_data()
        lines = {Path(name).name: sorted(measured.lines(name) or ()) for name in measured.measured_files()
                 if Path(name).parent == reference}
        return lines, verdict


def mode_lines(options: SuiteOptions, cache: Path, jobs: int, root: Path = ROOT, log: bool = True) -> Lines:
    """Executed lines per mode in the tree at `root`, from the cache when the code, suites and options
    are unchanged."""
    key = fingerprint(options, root)
    if cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("key") == key:
            return stored["modes"]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        measured = dict(zip(MODES, pool.map(lambda mode: _measure(mode, options, root), MODES), strict=True))
    for mode, (_lines, verdict) in measured.items():
        if log:
            print(f"coverage of mode {mode}: {verdict.outcome} in {verdict.seconds:.0f} s"
                  + (f" ({', '.join(verdict.red[:3])})" if verdict.red else ""), flush=True)
    unfit = [f"{mode} ({verdict.outcome}: {', '.join(verdict.red[:3]) or verdict.detail})"
             for mode, (_lines, verdict) in measured.items() if verdict.outcome != "green"]
    if unfit:  # a mode red on the unmutated code would count every mutant run in it as killed
        raise SystemExit(f"mutation: the unmutated reference is not green in mode {'; '.join(unfit)}")
    modes = {mode: lines for mode, (lines, _verdict) in measured.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"key": key, "modes": modes}) + "\n")
    return modes


def modes_for(module: str, line: int, modes: Lines) -> list[str]:
    """The modes whose run executes `line` of `module`, cheapest first."""
    return [mode for mode in MODES if line in set(modes.get(mode, {}).get(module, ()))]


def mode_for(module: str, line: int, modes: Lines) -> str | None:
    """The first mode (cheapest first) whose run executes `line` of `module`, or None."""
    return next(iter(modes_for(module, line, modes)), None)
