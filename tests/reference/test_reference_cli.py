"""The command line of ``python -m cstar_conformance.reference`` and the fault registry."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.reference.modes import CHOICES
from cstar_conformance.reference.process import RunningReference, start_reference
from cstar_conformance.rules import BY_ID

COMMAND = [sys.executable, "-m", "cstar_conformance.reference"]


def test_every_fault_names_known_rules() -> None:
    assert all(fault.rules and set(fault.rules) <= BY_ID.keys() for fault in FAULTS)


def test_list_faults_prints_name_rules_description() -> None:
    result = subprocess.run([*COMMAND, "--list-faults"], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == len(FAULTS)
    name, rules, description = lines[0].split("\t")
    assert (name, rules) == (FAULTS[0].name, ",".join(FAULTS[0].rules)) and description


def test_unknown_fault_exits_2_naming_the_valid_ones() -> None:
    result = subprocess.run([*COMMAND, "--fault", "no-such-fault"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "no-such-fault" in result.stderr and "email-unique-race" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sigterm_exits_cleanly(launch: Callable[..., RunningReference]) -> None:
    server = launch("--fault", "delete-no-cascade,ticketcount-cached")
    assert server.faults == ["delete-no-cascade", "ticketcount-cached"]
    assert server.stop() == 0


def test_a_stopped_server_lets_coverage_save_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The server skips the interpreter's teardown when it stops (os._exit), except under coverage.py, which
    # saves at exit: `make mutmut` learns which lines each mode reaches from that data. A stand-in module
    # named `coverage` (loaded at start-up like coverage.process_startup) proves its exit handler runs.
    saved = tmp_path / "saved"
    handler = f"atexit.register(lambda: open({str(saved)!r}, 'w').close())"
    (tmp_path / "coverage.py").write_text(f"import atexit\n{handler}\n")
    (tmp_path / "sitecustomize.py").write_text("import coverage\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    server = start_reference(())
    assert server.stop() == 0 and saved.exists(), "the server's exit skipped coverage.py's save"


def test_list_choices_prints_every_choice_with_the_modes_that_take_each_alternative() -> None:
    result = subprocess.run([*COMMAND, "--list-choices"], capture_output=True, text=True, check=True)
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}
    assert set(rows) == {choice.id for choice in CHOICES}
    assert rows["delete-answer"][1:3] == ["DELETE-STATUS", "id-deleted:clean|204:alt|object:edge"]
    assert "replace:-" in rows["customfields-patch"][2]


@pytest.mark.parametrize("value", ["no-such-choice=x", "delete-answer=205", "delete-answer"])
def test_a_bad_may_override_exits_2_with_one_line(value: str) -> None:
    result = subprocess.run([*COMMAND, "--may", value], capture_output=True, text=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "--list-choices" in result.stderr


def test_the_banner_and_ready_line_say_the_mode_and_the_faults_truthfully() -> None:
    process = subprocess.Popen([*COMMAND, "--port", "0", "--variant", "edge", "--may", "delete-answer=204",
                                "--fault", "webhook-slow"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline().split(" ", 1)[1])
        banner = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(10)
    assert ready["variant"] == "edge" and ready["may"] == {"delete-answer": "204"}
    assert ready["choices"]["delete-answer"] == "204" and ready["choices"]["timestamps"] == "seconds-z"
    assert "mode edge (delete-answer=204), faults: webhook-slow" in banner and "(clean)" not in banner
