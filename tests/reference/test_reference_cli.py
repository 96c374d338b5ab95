"""The command line of ``python -m cstar_conformance.reference`` and the fault registry."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.reference.process import RunningReference
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
