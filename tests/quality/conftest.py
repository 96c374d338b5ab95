"""Fixtures of the quality tests (helpers: suite_runs.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from suite_runs import SECRET

from cstar_conformance.target import EmbeddedReference


@pytest.fixture(scope="module")
def reference() -> Iterator[EmbeddedReference]:
    """A reference started by hand, as a user would start staging (team A's key is SECRET)."""
    server = EmbeddedReference(extra_args=["--key-a", SECRET])
    server.start()
    yield server
    server.stop()
