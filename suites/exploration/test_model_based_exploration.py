"""Every operation in random order — both teams' customers, tickets and webhook registrations, values from the
hostile catalogue, requests released at one instant — with the contract model judging every answer: the
exploration names every rule the model judges, and a violation fails under the rule it breaks, with the
shortest failing sequence as curl lines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.stateful import run_state_machine_as_test

from cstar_conformance.client import ApiClient
from cstar_conformance.exploration import BUDGETS, STEPS, Explorer, ShrinkBudgetSpent, machine
from cstar_conformance.factory import DataFactory
from cstar_conformance.model import JUDGED_RULES
from cstar_conformance.observer import ModelViolation
from cstar_conformance.session import Session


@pytest.fixture(scope="module")
def explorer(cstar: Session, api: ApiClient, factory: DataFactory, request: pytest.FixtureRequest
             ) -> Iterator[Explorer]:
    other = cstar.target.other_team
    target = cstar.target
    receiver = request.getfixturevalue("receiver") if target.is_loopback or target.webhook_public_url else None
    budget, shrink = BUDGETS[cstar.profile]
    explorer = Explorer(api, api.with_key(other.api_key, other.id) if other else None, factory, cstar.observer,
                        receiver, budget, shrink, f"{cstar.run_id}xp")
    yield explorer
    explorer.unsubscribe_all()


@pytest.mark.rule(*JUDGED_RULES)
def test_random_sequences_of_every_operation_keep_the_contract(cstar: Session, explorer: Explorer) -> None:
    Machine = seed(cstar.seed)(machine(explorer))  # noqa: N806
    examples = max(1, explorer.budget // (STEPS // 2) + 1)  # about half the steps of an example send a request
    try:
        run_state_machine_as_test(Machine, settings=settings(
            max_examples=examples, stateful_step_count=STEPS, deadline=None, database=None,
            phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck), print_blob=False))
    except ShrinkBudgetSpent:
        raise ModelViolation(explorer.report()) from None
    except Exception as exc:
        if explorer.best is not None:
            raise ModelViolation(explorer.report()) from exc
        raise
