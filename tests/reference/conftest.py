"""Fixtures: the reference server as a real subprocess on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from cstar_conformance.reference.process import RunningReference, start_reference


@pytest.fixture(scope="session")
def reference() -> Iterator[RunningReference]:
    """One clean reference server for the whole session."""
    with start_reference() as server:
        yield server


@pytest.fixture
def launch() -> Iterator[Callable[..., RunningReference]]:
    """Start extra servers (faults, variants); all are stopped after the test."""
    started: list[RunningReference] = []

    def _launch(*args: str) -> RunningReference:
        server = start_reference(args)
        started.append(server)
        return server

    yield _launch
    for server in started:
        server.stop()


@pytest.fixture
def client(reference: RunningReference) -> Iterator[httpx.Client]:
    with reference.client() as c:
        yield c
