"""Flakiness soak: the clean gate N times with different seeds (cycling through the reference's legal modes);
zero failures and zero SHOULD findings is the bar.

    python -m cstar_conformance.selfcheck.soak [-n 20] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cstar_conformance.reference.modes import MODES
from cstar_conformance.selfcheck.mutants import ROOT, run_suite

LEGAL_MODES = tuple(MODES)  # clean, alt, edge: the seeds cycle through every legal mode


def one(seed: int) -> tuple[int, str, int, list[str]]:
    variant = LEGAL_MODES[seed % len(LEGAL_MODES)]
    with tempfile.TemporaryDirectory(prefix=f"soak-{seed}-") as tmp:
        status, summary, _, tail = run_suite(["--seed", str(seed), "--reference-variant", variant], Path(tmp))
    red = [f"{c['test']} [{c['verdict']}]: {c['message'][:160]}" for c in summary.get("checks", [])
           if c["verdict"] in ("failed", "error", "finding")]
    if status != 0 and not red:
        red = [f"exit {status}: {tail[-300:]}"]
    return seed, variant, status, red


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20, help="number of runs (default 20)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=1)
    options = parser.parse_args(argv)
    started = time.monotonic()
    seeds = range(options.first_seed, options.first_seed + options.n)
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        results = list(pool.map(one, seeds))
    bad = [(seed, variant, red) for seed, variant, _, red in results if red]
    for seed, variant, red in bad:
        print(f"seed {seed} ({variant}):")
        for line in red:
            print(f"  {line}")
    print(f"soak: {len(results)} runs, {len(bad)} with a red check; {time.monotonic() - started:.0f} s")
    out = ROOT / "reports" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([{"seed": s, "variant": v, "exit": e, "red": r} for s, v, e, r in results], indent=2))
    print(f"{len(results) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
