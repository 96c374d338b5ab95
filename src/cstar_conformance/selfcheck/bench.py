"""Benchmark (`make bench`): our gate beside `st run` (the Schemathesis CLI, defaults + stateful) on the same
spec and the same target — a reference started by hand, reached on loopback and through a link that adds
20 ms each way (selfcheck/latency.py) — requests, wall seconds and seconds per request of each; plus the
reference's own capacity, and with --faults the fault switches `st run` catches.

    python -m cstar_conformance.selfcheck.bench [--runs 3] [--delay-ms 20] [--faults]
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
from urllib.parse import urlsplit

import httpx

from cstar_conformance.contract import SPEC_PATH
from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.selfcheck.latency import DelayProxy
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


class Target:
    """A fresh reference started by hand (as a staging is), reached directly or through a link with `delay`
    seconds each way (selfcheck/latency.py)."""

    def __init__(self, delay: float = 0.0, faults: list[str] | None = None) -> None:
        self.delay, self.faults = delay, list(faults or [])
        self.ref = EmbeddedReference(faults=self.faults)
        self.proxy: DelayProxy | None = None

    def __enter__(self) -> Target:
        self.ref.start()
        if self.delay:
            parts = urlsplit(self.ref.target().base_url)
            self.proxy = DelayProxy((parts.hostname or "127.0.0.1", parts.port or 80), self.delay).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        self.ref.stop()

    @property
    def base_url(self) -> str:
        url = self.ref.target().base_url
        if self.proxy is None:
            return url
        parts = urlsplit(url)
        return f"{parts.scheme}://127.0.0.1:{self.proxy.port}{parts.path}"

    def suite_args(self) -> list[str]:
        target = self.ref.target()
        other = target.other_team
        assert other is not None
        return ["--base-url", self.base_url, "--api-key", target.team.api_key, "--team-id", target.team.id,
                "--other-team-id", other.id, "--other-api-key", other.api_key]


def gate_run(delay: float = 0.0, profile: str = "gate", extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """One gate run against a fresh reference (through the delaying link when `delay`)."""
    with Target(delay) as target, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CSTAR_", "PYTEST_BASE_URL"))}
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                               "--profile", profile, f"--reports-dir={tmp}", *target.suite_args(), *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
        wall = time.monotonic() - started
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {"exit": proc.returncode, "wall_seconds": round(wall, 2), "session_seconds": summary["seconds"],
            "requests": summary["requests"]["total"], "must_failures": summary["must_failures"],
            "verdict": summary["verdict"]}


def st_run(faults: list[str] | None = None, delay: float = 0.0) -> dict[str, Any]:
    """`st run` with its defaults (all phases, stateful included) against a fresh reference.
    Webhook registration is excluded: the target would call the random URLs it generates."""
    with Target(delay, faults) as target, tempfile.TemporaryDirectory() as tmp:
        team = target.ref.target().team
        config = Path(tmp) / "st.toml"
        config.write_text(f'headers = {{ Authorization = "Bearer {team.api_key}" }}\n'
                          f'[parameters]\nteamId = "{team.id}"\n')
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
    parser.add_argument("--runs", type=int, default=1, help="gate runs per link (the median is shown)")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="each way on the slow link (default 20)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--faults", action="store_true", help="also run st against every fault switch (slow)")
    parser.add_argument("--output", default=str(ROOT / "reports" / "bench.json"))
    options = parser.parse_args(argv)

    links = {"loopback": 0.0, f"+{2 * options.delay_ms:g} ms round trip": options.delay_ms / 1000}
    table: list[tuple[str, str, int, float]] = []
    result: dict[str, Any] = {"links": {}}
    for name, delay in links.items():
        gates = [gate_run(delay) for _ in range(options.runs)]
        st = st_run(delay=delay)
        wall = statistics.median(g["wall_seconds"] for g in gates)
        requests = int(statistics.median(g["requests"] for g in gates))
        result["links"][name] = {"gate": gates, "st_run": st}
        table += [(name, "our gate", requests, wall), (name, "st run (defaults + stateful)", st["requests"],
                                                       st["seconds"])]
        if any(g["verdict"] != "pass" for g in gates):
            print(f"warning: a gate run on {name} did not pass: {[g['verdict'] for g in gates]}", file=sys.stderr)
    print(f"{'link':24} {'run':30} {'requests':>8} {'wall s':>7} {'s/request':>9}")
    for link, tool, requests, seconds in table:
        print(f"{link:24} {tool:30} {requests:8d} {seconds:7.1f} {seconds / max(requests, 1):9.4f}")
    result["reference_capacity_rps"] = round(reference_capacity(), 1)
    print(f"reference capacity (one keep-alive client, loopback): {result['reference_capacity_rps']:.0f} req/s")
    if options.faults:
        st_clean = st_run()
        baseline = set(st_clean["failures"])

        def probe(name: str) -> tuple[str, dict[str, Any]]:
            run = st_run([name])
            run["new_failures"] = sorted(set(run["failures"]) - baseline)
            return name, run

        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            probes = dict(pool.map(probe, [f.name for f in FAULTS]))
        result["st_run_faults"] = {name: {"caught": bool(r["new_failures"]), "new_failures": r["new_failures"]}
                                   for name, r in probes.items()}
        print(f"st run catches {sum(r['caught'] for r in result['st_run_faults'].values())} of {len(FAULTS)} "
              "fault switches (ours: make mutants)")
    Path(options.output).parent.mkdir(parents=True, exist_ok=True)
    Path(options.output).write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {options.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
