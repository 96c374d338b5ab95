"""Helpers of the quality tests: the suite run as its users run it — `python -m pytest suites …` in a
subprocess with a clean environment (no CSTAR_* or PYTEST_BASE_URL of the machine) — measured: exit
status, wall time and output lines of every run go to reports/quality-cases.jsonl."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from cstar_conformance.target import EmbeddedReference

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk_test_RecognisableSecretKey0123456789abc"
CASES_FILE = ROOT / "reports" / "quality-cases.jsonl"


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without the suite's variables. Python's bytecode cache stays on, as
    on a user's machine (pytest rewrites the plugin's modules: without the cache every run pays it)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CSTAR_", "PYTEST_BASE_URL", "PYTEST_XDIST", "PYTEST_ADDOPTS"))
           and k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]

    def summary(self, reports: Path) -> dict[str, object]:
        return json.loads((reports / "summary.json").read_text())


def one_line_error(result: Finished, status: int, reports: Path, *words: str) -> None:
    """The run ended before its checks with one line, that status, and a summary that says so."""
    assert result.returncode == status, result.output[-2000:]
    assert len(result.lines) == 1 and result.lines[0].startswith("cstar: "), result.lines
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.lines[0], result.lines[0]
    summary = result.summary(reports)
    assert (summary["verdict"], summary["complete"], summary["exit_status"]) == ("error", False, status)
    assert summary["reason"] == result.lines[0].removeprefix("cstar: ")


def command(*args: str, reports: Path | None) -> list[str]:
    folder = ["--reports-dir", str(reports)] if reports is not None else []
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *folder, *args]


SESSION = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"  # shared by xdist workers


def record(case: str, result: Finished) -> Finished:
    """Add the run to reports/quality-cases.jsonl, one JSON line per run; the first run of a new test
    session starts the table afresh (xdist workers share one session id, so they share the table)."""
    case = re.sub(r"\b([sp]k_(?:test|live)_)\w+", r"\1***", case)  # the table is a report too: no keys
    line = json.dumps({"session": SESSION, "case": case, "exit_status": result.returncode,
                       "seconds": round(result.seconds, 2), "output_lines": len(result.lines)})
    CASES_FILE.parent.mkdir(exist_ok=True)
    with CASES_FILE.open("a+") as table:
        fcntl.flock(table, fcntl.LOCK_EX)
        table.seek(0)
        first = table.readline()
        if first and json.loads(first).get("session") != SESSION:
            table.truncate(0)
        table.write(line + "\n")
    return result


def run(*args: str, reports: Path | None, timeout: float = 120, cwd: Path = ROOT,
        env: dict[str, str] | None = None, case: str = "") -> Finished:
    started = time.monotonic()
    proc = subprocess.run(command(*args, reports=reports), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env or clean_env())
    return record(case or " ".join(args)[:120], Finished(proc.returncode, proc.stdout, proc.stderr,
                                                         time.monotonic() - started))


def start(*args: str, reports: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen[str]:
    """A run in the background, in its own process group (as a terminal's foreground job is)."""
    return subprocess.Popen(command(*args, reports=reports), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env or clean_env(), start_new_session=True)


def finish(proc: subprocess.Popen[str], started: float, case: str, timeout: float = 90) -> Finished:
    out, _ = proc.communicate(timeout=timeout)
    return record(case, Finished(proc.returncode, out, "", time.monotonic() - started))


def ctrl_c(proc: subprocess.Popen[str]) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(proc.pid, signal.SIGINT)


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def explicit(reference: EmbeddedReference, key: str | None = None, other: bool = False) -> list[str]:
    target = reference.target()
    args = ["--base-url", target.base_url, "--api-key", key or target.team.api_key, "--team-id", target.team.id]
    if other and target.other_team:
        args += ["--other-team-id", target.other_team.id, "--other-api-key", target.other_team.api_key]
    return args


def received(reference: EmbeddedReference) -> int:
    """Every HTTP request the reference has received so far (its own counter, outside the API)."""
    root = reference.target().root
    return int(httpx.get(f"{root}/_reference/stats", timeout=5).json()["requests"])
