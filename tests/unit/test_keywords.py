"""Schema keyword coverage: the keyword sites of the real spec, which sites a request exercises with a
valid or an invalid value (parameters read as a server reads text), which an answer reaches, and the
run's totals as the summary, terminal and front page show them."""

from __future__ import annotations

from pathlib import Path

from cstar_conformance import specfile
from cstar_conformance.coverage import of_run
from cstar_conformance.keywords import Keywords, line, summary
from cstar_conformance.traffic import RequestStats
from cstar_conformance.verdict_page import render

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "customers.yaml"
KEYWORDS = Keywords(specfile.parse(SPEC.read_bytes()))


def test_sites_are_the_validation_keywords_of_parameters_and_bodies_without_the_pinned_team_id() -> None:
    create = {(s.where, s.keyword) for _, _, sites in KEYWORDS.requests["POST /customers"] for s in sites}
    assert {("body", "type"), ("body", "required"), ("body .name", "minLength"), ("body .email", "format"),
            ("body .status", "enum"), ("body .tags[]", "type")} <= create
    listing = {(s.where, s.keyword) for _, _, sites in KEYWORDS.requests["GET /customers"] for s in sites}
    assert ("query pageSize", "type") in listing and ("query status", "enum") in listing
    assert not any("teamId" in s.where for s in KEYWORDS.sites())  # the suite's own, never generated
    assert ("POST /customers", "201") in KEYWORDS.responses


def test_a_request_exercises_keywords_valid_or_invalid_and_parameters_are_read_as_text() -> None:
    hits = KEYWORDS.request_hits("GET /customers", {"query": {"page": "2", "pageSize": "ten", "status": "ACTIVE"}})
    assert "GET /customers|request|query page|type|ok" in hits  # "2" is an integer on the wire
    assert "GET /customers|request|query pageSize|type|bad" in hits
    assert "GET /customers|request|query status|enum|bad" in hits and not any("sentiment" in h for h in hits)
    body = KEYWORDS.request_hits("POST /customers", {"body": {"name": "", "email": "nope", "tags": ["a", 3]}})
    assert {"POST /customers|request|body .name|minLength|bad", "POST /customers|request|body .email|format|bad",
            "POST /customers|request|body .tags[]|type|ok", "POST /customers|request|body .tags[]|type|bad",
            "POST /customers|request|body|required|ok"} <= set(body)
    assert not any("minLength" in h for h in KEYWORDS.request_hits("POST /customers", {"body": {"name": 5}}))
    assert KEYWORDS.request_hits("POST /customers", {"body": [1]}) == ["POST /customers|request|body|type|bad"]
    assert KEYWORDS.request_hits("POST /customers", {}) == []  # no body sent: nothing exercised


def test_answers_reach_response_keywords_and_the_run_totals_say_what_stayed_one_sided() -> None:
    answer = {"success": True, "data": {"id": "7b0e", "name": "A", "email": "a@example.test", "tags": ["x"],
                                         "createdAt": "2026-11-29T10:00:00Z"}}
    reached = KEYWORDS.response_hits("POST /customers", 201, answer)
    assert "POST /customers|response|201 .data.createdAt|format|ok" in reached
    assert all(h.endswith("|ok") for h in reached)
    stats = RequestStats()
    stats.note_keywords(KEYWORDS.request_hits("POST /customers", {"body": {"name": "", "email": "a@b.test"}}))
    stats.note_keywords(KEYWORDS.request_hits("POST /customers", {"body": {"name": "Ann", "email": "a@b.test"}}))
    worker = RequestStats()
    worker.merge(stats.as_dict())  # an xdist worker's hits reach the controller's totals
    worker.note_keywords(reached)
    totals = summary(KEYWORDS, worker.as_dict()["by_keyword"])["customer_operations"]
    assert totals["request_both_ways"] == 1 and totals["response_reached"] == len(reached)
    assert "POST /customers body .email format" in totals["request_never_broken"]
    assert "GET /customers query page type" in totals["request_not_reached"]
    assert "GET /customers query search type" not in totals["request_never_broken"]  # text cannot break it
    assert f"1/{totals['request_breakable']} breakable" in line(summary(KEYWORDS, worker.as_dict()["by_keyword"]))


def test_the_keyword_coverage_reaches_the_summary_and_the_front_page() -> None:
    assert of_run(SPEC, {"create_and_read|POST /customers|201": 1})["keywords"] is None  # nothing fuzzed
    coverage = of_run(SPEC, {}, {"POST /customers|request|body .name|minLength|bad": 2})
    assert coverage["keywords"]["customer_operations"]["request_reached"] == 1
    page = render({"verdict": "pass", "coverage": coverage, "checks": []})
    assert "<h3>Schema keywords</h3>" in page and "customer requests 1/" in page
