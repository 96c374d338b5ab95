"""Schemathesis over openapi/customers.yaml: every operation, positive and negative data, every
check that encodes a MUST; and a stateful walk over the spec's links (create → get/patch/delete)."""

from __future__ import annotations

import allure
import pytest
from hypothesis import settings

from cstar_conformance import contract
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session, current

schema = contract.load(current())


def operation_label(generated) -> str:
    operation = generated.operation
    return f"{operation.method.upper()} {operation.path.removeprefix('/teams/{teamId}')}"
CONTRACT_RULES = ("NO-5XX", "ENV-SUCCESS", "ENV-LIST", "ENV-ERROR", "CONTENT-TYPE-JSON", "CUSTOMER-SHAPE",
                  "CREATE-VALIDATION", "AUTH-401")


@pytest.mark.rule(*CONTRACT_RULES)
@schema.parametrize()
def test_operation_keeps_the_contract(case, cstar: Session, factory: DataFactory) -> None:
    allure.dynamic.parameter("operation", case.operation.label)
    contract.mark_generated_customer(case, cstar.run_id)
    response = case.call()
    cstar.record(response, "contract", operation_label(case))
    kind = contract.created_kind(case)
    if kind and response.status_code in (200, 201):
        record_id = (response.json().get("data") or {}).get("id")
        if isinstance(record_id, str):
            factory.track(kind, record_id)
    case.validate_response(response)


@pytest.mark.rule(*CONTRACT_RULES, "DELETE-GONE", "GET-EQUALS")
def test_stateful_sequences_keep_the_contract(cstar: Session, factory: DataFactory) -> None:
    profile = contract.PROFILES[cstar.profile]

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case) -> None:
            contract.mark_generated_customer(case, cstar.run_id)

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            cstar.record(response, "contract-stateful", operation_label(case))
            kind = contract.created_kind(case)
            if kind and response.status_code in (200, 201):
                record_id = (response.json().get("data") or {}).get("id")
                if isinstance(record_id, str):
                    factory.track(kind, record_id)

    Machine.run(settings=settings(max_examples=profile["stateful_examples"],
                                  stateful_step_count=profile["stateful_steps"], deadline=None,
                                  derandomize=True, database=None))
