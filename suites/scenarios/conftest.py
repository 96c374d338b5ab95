"""Fixtures shared by the scenario suites (wiring only; the logic lives in the library)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cstar_conformance import capabilities, levels
from cstar_conformance.client import ApiClient
from cstar_conformance.datasets import ListingDataset, seed_listing_dataset
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session


@pytest.fixture(autouse=True)
def blame_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tells `capabilities.block` which rules the running check grades (it never blocks a check by its own)."""
    with capabilities.checking(request.node.nodeid, levels.grade_of(request.node).ids):
        yield


@pytest.fixture(scope="session", autouse=True)
def blocks_confirmed(cstar: Session) -> Iterator[None]:
    """A blocked check stands on an observed breach of another rule; at the end of the session every such
    rule must have a red check of its own, or the breach is reported here (never a green run)."""
    yield
    left = capabilities.unconfirmed(cstar.results)
    if left:
        lines = "; ".join(f"[{b.rule}] {b.what} (seen by {b.check})" for b in left[:5])
        pytest.fail(f"checks were blocked by rules that no check of this session reported as broken: {lines}",
                    pytrace=False)


@pytest.fixture(scope="session")
def listing_dataset(factory: DataFactory) -> ListingDataset:
    """8 run-tagged customers with every status × sentiment pair and search tokens (read-only)."""
    return seed_listing_dataset(factory)


@pytest.fixture(scope="session")
def dataset_search(api: ApiClient, listing_dataset: ListingDataset) -> capabilities.Proof:
    """Whether `search=<dataset token>` narrows the list to exactly the dataset (one request)."""
    return capabilities.search_narrows(api, listing_dataset.search_token, listing_dataset.ids)


@pytest.fixture
def searchable_dataset(listing_dataset: ListingDataset, dataset_search: capabilities.Proof) -> ListingDataset:
    """The dataset, for checks that narrow a list to it by search: blocked when that search is broken."""
    dataset_search.require()
    return listing_dataset
