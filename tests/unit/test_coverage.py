"""Schema coverage from the answers a run counted: documented operations and status codes of the real
spec, observed by fuzzing or by scenario checks (never by set-up or cleanup), the legal alternative a
target answered instead, 429 on a target that never limits, and answers the spec does not document."""

from __future__ import annotations

from pathlib import Path

from cstar_conformance.coverage import documented, line, of_run
from cstar_conformance.verdict_page import render

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "customers.yaml"
CUSTOMER_OPERATIONS = {"GET /customers", "POST /customers", "GET /customers/{customerId}",
                       "PATCH /customers/{customerId}", "DELETE /customers/{customerId}"}


def test_the_spec_documents_each_customer_operation_with_its_status_codes() -> None:
    spec = documented(SPEC)
    assert CUSTOMER_OPERATIONS <= set(spec)
    assert {"201", "200", "409", "422", "429"} <= set(spec["POST /customers"])


def test_observed_codes_come_from_checks_and_alternatives_and_429_are_told_apart() -> None:
    answers = {"contract|POST /customers|201": 3, "create_and_read|POST /customers|400": 1,
               "cleanup|DELETE /customers/{customerId}|200": 9, "contract|GET /customers|500": 1,
               "auth_and_tenancy|POST /customers|403": 1}
    coverage = of_run(SPEC, answers)
    post = next(o for o in coverage["operations"] if o["operation"] == "POST /customers")
    assert post["observed"] == ["201", "400", "403"] and post["observed_by_fuzzing"] == ["201"]
    assert post["by_alternative"] == {"200": "201", "422": "400", "404": "403"}
    delete = next(o for o in coverage["operations"] if o["operation"] == "DELETE /customers/{customerId}")
    assert delete["observed"] == [] and not delete["reached"]  # the cleanup's answers are not a check's
    listing = next(o for o in coverage["operations"] if o["operation"] == "GET /customers")
    assert listing["undocumented"] == ["500"]
    customer = coverage["customer_operations"]
    assert customer["operations"] == 5 and customer["reached"] == 2
    assert "POST /customers 429" in customer["rate_limit_not_met"]
    assert "POST /customers 409" in customer["not_observed"] and "POST /customers 422" not in customer["not_observed"]
    assert "customer operations 2/5 reached" in line(coverage) and "POST /customers 409" in line(coverage)
    page = render({"verdict": "pass", "coverage": coverage, "checks": []})
    assert "Schema coverage" in page and "422 ≈ 400" in page and "409 ✗" in page and "201 ✓ fuzz" in page
