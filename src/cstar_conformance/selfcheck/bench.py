"""Benchmark: our gate beside `st run` (the Schemathesis CLI, defaults + stateful) on the same spec
and target — requests, seconds and fault switches caught — plus the reference's own capacity.

    python -m cstar_conformance.selfcheck.bench [--runs 3] [--jobs 2] [--skip-faults]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from cstar_conformance.contract import SPEC_PATH
from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.selfcheck.mutants import ROOT
from cstar_conformance.target import EmbeddedReference


def reference_capacity(seconds: float = 3.0) -> float:
    """Requests per second of a plain keep-alive loop (GET a 20-item list): the floor for any suite."""
    ref = EmbeddedReference()
    ref.start()
    try:
        target = ref.target()
        headers = {"Authorization": f"Bearer {target.team.api_key}"}
        with httpx.Client(base_url=target.base_url, headers=headers) as client:
            for n in range(20):
                client.post(f"/teams/{target.team.id}/customers", json={"name": f"n{n}", "email": f"n{n}@b.example"})
            count, deadline = 0, time.monotonic() + seconds
            started = time.monotonic()
            while time.monotonic() < deadline:
                client.get(f"/teams/{target.team.id}/customers")
                count += 1
            return count / (time.monotonic() - started)
    finally:
        ref.stop()


def gate_run(profile: str = "gate") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                               "--profile", profile, "-o", f"cstar_reports_dir={tmp}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - started
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {"exit": proc.returncode, "wall_seconds": round(wall, 2), "session_seconds": summary["seconds"],
            "requests": summary["requests"]["total"], "must_failures": summary["must_failures"]}


def st_run(faults: list[str] | None = None) -> dict[str, Any]:
    """`st run` with its defaults (all phases, stateful included) against a fresh reference.
    Webhook registration is excluded: the target would call the random URLs it generates."""
    ref = EmbeddedReference(faults=faults or [])
    ref.start()
    try:
        target = ref.target()
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "st.toml"
            config.write_text(f'headers = {{ Authorization = "Bearer {target.team.api_key}" }}\n'
                              f'[parameters]\nteamId = "{target.team.id}"\n')
            har, junit = Path(tmp) / "run.har", Path(tmp) / "junit.xml"
            started = time.monotonic()
            proc = subprocess.run(
                [str(Path(sys.executable).parent / "st"), "--config-file", str(config), "--no-color", "run",
                 str(SPEC_PATH), "--url", target.base_url, "--exclude-tag", "webhooks", "--report", "har,junit",
                 "--report-har-path", str(har), "--report-junit-path", str(junit)],
                capture_output=True, text=True, timeout=900, env={**os.environ, "NO_COLOR": "1"})
            seconds = time.monotonic() - started
            requests = len(json.loads(har.read_text())["log"]["entries"]) if har.exists() else 0
            return {"exit": proc.returncode, "seconds": round(seconds, 1), "requests": requests,
                    "failures": failure_signatures(junit)}
    finally:
        ref.stop()


def failure_signatures(junit: Path) -> list[str]:
    """Operation + failure title for every failing case of st's JUnit report."""
    if not junit.exists():
        return []
    signatures = set()
    for case in ET.parse(junit).iter("testcase"):
        for failure in [*case.iter("failure"), *case.iter("error")]:
            text = (failure.get("message") or failure.text or "").strip()
            title = next((line.strip("- ").strip() for line in text.splitlines() if line.strip()), "")
            signatures.add(f"{case.get('name')}: {title[:80]}")
    return sorted(signatures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-faults", action="store_true", help="do not run st against every fault switch")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench.json"))
    options = parser.parse_args(argv)

    capacity = reference_capacity()
    gates = [gate_run() for _ in range(options.runs)]
    st_clean = st_run()
    result: dict[str, Any] = {
        "reference_capacity_rps": round(capacity, 1),
        "gate": {"runs": gates,
                 "median_wall_seconds": statistics.median(g["wall_seconds"] for g in gates),
                 "median_session_seconds": statistics.median(g["session_seconds"] for g in gates),
                 "requests": statistics.median(g["requests"] for g in gates)},
        "st_run": {"clean": st_clean},
    }
    mutants_file = ROOT / "reports" / "mutants.json"
    ours = json.loads(mutants_file.read_text()) if mutants_file.exists() else None
    if not options.skip_faults:
        baseline = set(st_clean["failures"])

        def probe(name: str) -> tuple[str, dict[str, Any]]:
            run = st_run([name])
            run["new_failures"] = sorted(set(run["failures"]) - baseline)
            return name, run

        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            probes = dict(pool.map(probe, [f.name for f in FAULTS]))
        result["st_run"]["faults"] = {name: {"caught": bool(r["new_failures"]), "new_failures": r["new_failures"],
                                             "requests": r["requests"], "seconds": r["seconds"]}
                                      for name, r in probes.items()}
    gate = result["gate"]
    st_caught = (sum(r["caught"] for r in result["st_run"].get("faults", {}).values())
                 if "faults" in result["st_run"] else None)
    our_caught = ours["caught"] if ours else None
    rows = [
        ("", "our gate (median)", "st run (defaults + stateful)"),
        ("requests per run", str(gate["requests"]), str(st_clean["requests"])),
        ("seconds per run", f"{gate['median_wall_seconds']:.1f} wall / {gate['median_session_seconds']:.1f} in session",
         f"{st_clean['seconds']:.1f}"),
        ("requests per second", f"{gate['requests'] / max(gate['median_session_seconds'], 0.01):.0f}",
         f"{st_clean['requests'] / max(st_clean['seconds'], 0.01):.0f}"),
        ("false alarms on the clean reference", str(max(g["must_failures"] for g in gates)),
         str(len(st_clean["failures"]))),
        (f"faults caught (of {len(FAULTS)})", "—" if our_caught is None else str(our_caught),
         "—" if st_caught is None else str(st_caught)),
        ("reference capacity (keep-alive loop)", f"{capacity:.0f} req/s", ""),
    ]
    width = max(len(r[0]) for r in rows)
    for row in rows:
        print(f"{row[0]:{width}}  {row[1]:32}  {row[2]}")
    if our_caught is None:
        print("(our faults caught: run `make mutants` first for reports/mutants.json)")
    Path(options.output).parent.mkdir(parents=True, exist_ok=True)
    Path(options.output).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {options.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
