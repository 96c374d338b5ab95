"""Schemathesis over openapi/customers.yaml: every operation, positive and negative data, every
check that encodes a MUST; and a stateful walk over the spec's links (create → get/patch/delete).

Every request goes through the run's Traffic (counted, within budget, 429s waited out); a failure
is reported as the failing check, its rule, the request and the response."""

from __future__ import annotations

import allure
import pytest
from hypothesis import settings
from schemathesis.core.failures import Failure, FailureGroup

from cstar_conformance import contract, fuzz_failures
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session, current, family

schema = contract.load(current())
CONTRACT_RULES = ("NO-5XX", "ENV-SUCCESS", "ENV-LIST", "ENV-ERROR", "CONTENT-TYPE-JSON", "CUSTOMER-SHAPE",
                  "CREATE-VALIDATION", "AUTH-401")


def validate(case, response, cstar: Session, request: pytest.FixtureRequest) -> None:
    try:
        case.validate_response(response)
    except (Failure, FailureGroup) as error:
        failures = list(error.exceptions) if isinstance(error, FailureGroup) else [error]
        rules, text = fuzz_failures.render(failures, case, response, cstar.masker)
        request.node.user_properties.append(("failed_rules", ",".join(rules)))
        pytest.fail(text, pytrace=False)


def track_created(case, response, factory: DataFactory) -> None:
    kind = contract.created_kind(case)
    if kind and response.status_code in (200, 201):
        try:
            record_id = (response.json().get("data") or {}).get("id")
        except (ValueError, AttributeError):
            return
        if isinstance(record_id, str):
            factory.track(kind, record_id)


@pytest.mark.rule(*CONTRACT_RULES)
@schema.parametrize()
def test_operation_keeps_the_contract(case, cstar: Session, factory: DataFactory,
                                      request: pytest.FixtureRequest) -> None:
    allure.dynamic.parameter("operation", case.operation.label)
    contract.mark_generated_customer(case, cstar.run_id)
    with family("contract"):
        response = case.call()
        track_created(case, response, factory)
        validate(case, response, cstar, request)


@pytest.mark.rule(*CONTRACT_RULES, "DELETE-GONE", "GET-EQUALS")
def test_stateful_sequences_keep_the_contract(cstar: Session, factory: DataFactory,
                                              request: pytest.FixtureRequest) -> None:
    profile = contract.PROFILES[cstar.profile]

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case) -> None:
            contract.mark_generated_customer(case, cstar.run_id)

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            track_created(case, response, factory)

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            try:
                super().validate_response(response, case, additional_checks=additional_checks, **kwargs)
            except (Failure, FailureGroup) as error:
                failures = list(error.exceptions) if isinstance(error, FailureGroup) else [error]
                rules, text = fuzz_failures.render(failures, case, response, cstar.masker)
                request.node.user_properties.append(("failed_rules", ",".join(rules)))
                pytest.fail(text, pytrace=False)

    with family("contract-stateful"):
        Machine.run(settings=settings(max_examples=profile["stateful_examples"],
                                      stateful_step_count=profile["stateful_steps"], deadline=None,
                                      derandomize=True, database=None))
