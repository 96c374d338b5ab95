"""Fixtures of the quality tests (helpers: suite_runs.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from suite_runs import CASES, ROOT, SECRET

from cstar_conformance.target import EmbeddedReference


@pytest.fixture(scope="session", autouse=True)
def _write_case_table() -> Iterator[None]:
    yield
    if CASES:
        out = ROOT / "reports" / "quality-cases.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(CASES, indent=2) + "\n")


@pytest.fixture(scope="module")
def reference() -> Iterator[EmbeddedReference]:
    """A reference started by hand, as a user would start staging (team A's key is SECRET)."""
    server = EmbeddedReference(extra_args=["--key-a", SECRET])
    server.start()
    yield server
    server.stop()
