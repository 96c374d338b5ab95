"""Fast tests of the library's own logic: levels, masking, 429 hints, options, rule catalogue."""

from __future__ import annotations

import httpx
import pytest

from cstar_conformance.client import Exchange, Masker, retry_after_seconds, retry_hint
from cstar_conformance.levels import Grade, is_finding
from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.rules import BY_ID, RULES, Level, rule
from cstar_conformance.target import (
    EXIT_PRODUCTION,
    EXIT_USAGE,
    PreflightError,
    Target,
    Team,
    check_production,
    validate_options,
)


def test_rule_ids_are_unique_and_every_fault_names_known_rules() -> None:
    assert len(BY_ID) == len(RULES)
    assert all(set(f.rules) <= set(BY_ID) for f in FAULTS)
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 35


def test_unknown_rule_id_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="NOPE"):
        rule("NOPE")


def test_a_check_takes_the_strongest_level_of_its_rules() -> None:
    assert Grade((rule("CREATE-201"), rule("CREATE-2XX"))).level is Level.MUST
    assert Grade((rule("CREATE-201"), rule("CREATE-LONG-STRINGS"))).level is Level.SHOULD


def test_should_failures_are_findings_unless_strict() -> None:
    assert is_finding(Level.SHOULD, strict=False)
    assert not is_finding(Level.SHOULD, strict=True)
    assert not is_finding(Level.MUST, strict=False)


def test_masker_hides_keys_in_text_headers_and_curl() -> None:
    masker = Masker(["sk_test_secret123"])
    headers = masker.headers({"Authorization": "Bearer sk_test_secret123", "X-Other": "a sk_test_secret123 b"})
    assert headers == {"Authorization": "Bearer ***", "X-Other": "a *** b"}
    exchange = Exchange("GET", "http://127.0.0.1/x", headers, None, 200, {}, None, 0.01)
    assert "sk_test_secret123" not in exchange.curl() and "Bearer ***" in exchange.curl()


def _response(status: int, headers: dict[str, str] | None = None, body: object = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json=body)


def test_429_hint_prefers_retry_after_then_error_retry_after_and_is_bounded() -> None:
    assert retry_hint(_response(429, {"Retry-After": "3"})) == 3.0
    assert retry_hint(_response(429, body={"error": {"retryAfter": 2}})) == 2.0
    assert retry_hint(_response(429, body={"error": {}})) is None
    assert retry_after_seconds(_response(429, body={})) == 1.0
    assert retry_after_seconds(_response(429, {"Retry-After": "86400"})) == 30.0


@pytest.mark.parametrize("kwargs", [
    {"base_url": "ftp://x", "api_key": "sk_test_12345678", "team_id": "t"},
    {"base_url": "http://x", "api_key": None, "team_id": "t"},
    {"base_url": None, "api_key": "short", "team_id": None},
    {"base_url": None, "api_key": None, "team_id": None, "other_team_id": "b"},
])
def test_unusable_options_are_usage_errors(kwargs: dict[str, str | None]) -> None:
    args = {"other_team_id": None, "other_api_key": None, **kwargs}
    with pytest.raises(PreflightError) as error:
        validate_options(**args)  # type: ignore[arg-type]
    assert error.value.exit_status == EXIT_USAGE


@pytest.mark.parametrize(("url", "key", "refused"), [
    ("https://www.cstar.help/api/v1", "sk_test_12345678", True),
    ("https://staging.example/api/v1", "sk_live_12345678", True),
    ("https://staging.example/api/v1", "sk_test_12345678", False),
])
def test_production_needs_allow_production(url: str, key: str, refused: bool) -> None:
    target = Target(url, Team("t", key))
    if refused:
        with pytest.raises(PreflightError) as error:
            check_production(target, allowed=False)
        assert error.value.exit_status == EXIT_PRODUCTION
    else:
        check_production(target, allowed=False)
    check_production(target, allowed=True)


def test_throttle_spaces_requests_to_the_given_rate() -> None:
    import time

    from cstar_conformance.client import Throttle

    throttle = Throttle(rps=50)
    started = time.monotonic()
    for _ in range(6):
        throttle.wait()
    assert time.monotonic() - started >= 5 / 50 * 0.9


def test_requests_are_counted_by_operation_whatever_the_ids() -> None:
    from cstar_conformance.client import operation_of

    request = httpx.Request("PATCH", "http://h/api/v1/teams/t-1/customers/2b1e5d4c-0000-4000-8000-000000000000")
    assert operation_of(request) == "PATCH /customers/{customerId}"
    assert operation_of(httpx.Request("GET", "http://h/api/v1/teams/t/tickets?customerId=x")) == "GET /tickets"


def test_sweep_reads_timestamps_of_any_legal_form_and_naive_ones_as_utc() -> None:
    from datetime import UTC, datetime

    from cstar_conformance.factory import _parse_time

    expected = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for text in ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000+00:00", "2026-01-02T03:04:05"):
        assert _parse_time(text) == expected
    assert _parse_time("yesterday") is None
