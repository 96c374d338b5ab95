"""Fixtures shared by the scenario suites (wiring only; the logic lives in the library)."""

from __future__ import annotations

import pytest

from cstar_conformance.datasets import ListingDataset, seed_listing_dataset
from cstar_conformance.factory import DataFactory


@pytest.fixture(scope="session")
def listing_dataset(factory: DataFactory) -> ListingDataset:
    """25 run-tagged customers with a known status × sentiment spread and search tokens (read-only)."""
    return seed_listing_dataset(factory)
