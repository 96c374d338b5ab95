"""Benchmark (`make bench`): our gate beside `st run` (the Schemathesis CLI, defaults + stateful) on the same
spec and the same targets — the reference and the implementation written apart from the suite
(tests/independent), each started by hand, reached on loopback and through a link that adds 20 ms each way
(selfcheck/latency.py) — requests, wall seconds and seconds per request of each; plus the reference's own
capacity, and with --faults the fault switches `st run` catches.

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
from cstar_conformance.target import EmbeddedReference, free_port


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


INDEPENDENT = ROOT / "tests" / "independent" / "server.py"  # an implementation written apart from the suite
IMPLEMENTATIONS = ("reference", "independent")


class Target:
    """A fresh server started by hand (as a staging is) — the reference, or the implementation written apart from
    the suite (tests/independent) — reached directly or through a link with `delay` seconds each way
    (selfcheck/latency.py)."""

    def __init__(self, delay: float = 0.0, faults: list[str] | None = None, implementation: str = "reference",
                 env: dict[str, str] | None = None) -> None:
        """`env`: the independent implementation's switches (tests/independent/README.md)."""
        self.delay, self.faults, self.implementation = delay, list(faults or []), implementation
        self.env = env or {}
        self.ref = EmbeddedReference(faults=self.faults)
        self.server: subprocess.Popen[str] | None = None
        self.started: dict[str, Any] = {}
        self.proxy: DelayProxy | None = None

    def __enter__(self) -> Target:
        if self.implementation == "independent":
            self.folder = tempfile.TemporaryDirectory()
            self.server = subprocess.Popen([sys.executable, str(INDEPENDENT), "--port", str(free_port()),
                                            "--db", str(Path(self.folder.name) / "independent.db")],
                                           stdout=subprocess.PIPE, text=True, env={**os.environ, **self.env})
            assert self.server.stdout is not None
            self.started = json.loads(self.server.stdout.readline())  # printed once it listens
        else:
            self.ref.start()
        if self.delay:
            parts = urlsplit(self.direct_url)
            self.proxy = DelayProxy((parts.hostname or "127.0.0.1", parts.port or 80), self.delay).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)
            self.folder.cleanup()
        else:
            self.ref.stop()

    @property
    def direct_url(self) -> str:
        return str(self.started["baseUrl"]) if self.server is not None else self.ref.target().base_url

    @property
    def base_url(self) -> str:
        if self.proxy is None:
            return self.direct_url
        parts = urlsplit(self.direct_url)
        return f"{parts.scheme}://127.0.0.1:{self.proxy.port}{parts.path}"

    def teams(self) -> list[tuple[str, str, str | None]]:
        """(team id, secret key, publishable key) of the two teams."""
        if self.server is not None:
            return [(t["teamId"], t["secretKey"], t["publishableKey"]) for t in self.started["teams"]]
        target = self.ref.target()
        assert target.other_team is not None
        return [(target.team.id, target.team.api_key, target.team.publishable_key),
                (target.other_team.id, target.other_team.api_key, None)]

    def suite_args(self) -> list[str]:
        (team, key, publishable), (other, other_key, _) = self.teams()
        return ["--base-url", self.base_url, "--api-key", key, "--team-id", team, "--other-team-id", other,
                "--other-api-key", other_key, *(["--publishable-key", publishable] if publishable else [])]


def gate_run(delay: float = 0.0, profile: str = "gate", extra: tuple[str, ...] = (),
             implementation: str = "reference") -> dict[str, Any]:
    """One gate run against a fresh server (through the delaying link when `delay`)."""
    with Target(delay, implementation=implementation) as target, tempfile.TemporaryDirectory() as tmp:
        # as a user's shell runs it: none of the suite's variables, Python's bytecode cache on
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CSTAR_", "PYTEST_BASE_URL")) and k != "PYTHONDONTWRITEBYTECODE"}
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                               "--profile", profile, f"--reports-dir={tmp}", *target.suite_args(), *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
        wall = time.monotonic() - started
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {"exit": proc.returncode, "wall_seconds": round(wall, 2), "session_seconds": summary["seconds"],
            "requests": summary["requests"]["total"], "must_failures": summary["must_failures"],
            "verdict": summary["verdict"]}


def st_run(faults: list[str] | None = None, delay: float = 0.0, implementation: str = "reference") -> dict[str, Any]:
    """`st run` with its defaults (all phases, stateful included) against a fresh server.
    Webhook registration is excluded: the target would call the random URLs it generates."""
    with Target(delay, faults, implementation) as target, tempfile.TemporaryDirectory() as tmp:
        team, key, _ = target.teams()[0]
        config = Path(tmp) / "st.toml"
        config.write_text(f'headers = {{ Authorization = "Bearer {key}" }}\n'
                          f'[parameters]\nteamId = "{team}"\n')
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
    table: list[tuple[str, str, str, int, float]] = []
    result: dict[str, Any] = {"links": {}}
    for name, delay in links.items():
        result["links"][name] = {}
        for implementation in IMPLEMENTATIONS:
            gates = [gate_run(delay, implementation=implementation) for _ in range(options.runs)]
            st = st_run(delay=delay, implementation=implementation)
            wall = statistics.median(g["wall_seconds"] for g in gates)
            requests = int(statistics.median(g["requests"] for g in gates))
            result["links"][name][implementation] = {"gate": gates, "st_run": st}
            table += [(name, implementation, "our gate", requests, wall),
                      (name, implementation, "st run (defaults + stateful)", st["requests"], st["seconds"])]
            if any(g["verdict"] != "pass" for g in gates):
                print(f"warning: a gate run on {name} against the {implementation} did not pass: "
                      f"{[g['verdict'] for g in gates]}", file=sys.stderr)
    print(f"{'link':24} {'target':12} {'run':30} {'requests':>8} {'wall s':>7} {'s/request':>9}")
    for link, implementation, tool, requests, seconds in table:
        print(f"{link:24} {implementation:12} {tool:30} {requests:8d} {seconds:7.1f} "
              f"{seconds / max(requests, 1):9.4f}")
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
