"""Fast tests of the library's own logic: levels, masking, 429 hints, rule catalogue, production guard."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from cstar_conformance.client import Exchange, Masker
from cstar_conformance.exits import EXIT_PRODUCTION, StopRun
from cstar_conformance.levels import Grade, is_finding
from cstar_conformance.reference.faults import FAULTS
from cstar_conformance.rules import BY_ID, RULES, Level, rule
from cstar_conformance.target import check_production, is_production_host
from cstar_conformance.traffic import retry_hint


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


def _hint(headers: dict[str, str] | None = None, body: object = None) -> float | None:
    response = httpx.Response(429, headers=headers, json=body)
    return retry_hint(response.headers, response.json)


def test_429_hint_prefers_retry_after_then_error_retry_after() -> None:
    assert _hint({"Retry-After": "3"}) == 3.0
    assert _hint(body={"error": {"retryAfter": 2}}) == 2.0
    assert _hint(body={"error": {}}) is None
    assert _hint({"Retry-After": "nan"}, body={}) is None
    assert retry_hint({"retry-after": ["4"]}, lambda: None) == 4.0  # Schemathesis' headers: lists
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= (retry_hint({"retry-after": later}, lambda: None) or 0) <= 61


LIVE = "sk_live_" + "0" * 16  # built here: no secret-looking literal in the repository


@pytest.mark.parametrize(("url", "keys", "refused"), [
    ("https://www.cstar.help/api/v1", {"--api-key": "sk_test_12345678"}, True),
    ("https://API.cstar.help./api/v1", {"--api-key": "sk_test_12345678"}, True),
    ("https://cstar.help/api/v1", {"--api-key": "sk_test_12345678"}, True),
    ("https://eu.api.CSTAR.HELP/api/v1", {"--api-key": "sk_test_12345678"}, True),
    ("https://staging.example/api/v1", {"--api-key": LIVE}, True),
    ("https://staging.example/api/v1", {"--api-key": "sk_test_12345678", "--other-api-key": LIVE}, True),
    ("https://staging.example/api/v1", {"--publishable-key": "pk_live_" + "0" * 16}, True),
    ("https://staging.example/api/v1", {"--api-key": "sk_test_12345678"}, False),
    ("https://notcstar.help/api/v1", {"--api-key": "sk_test_12345678"}, False),
    ("https://cstar.help.example/api/v1", {"--api-key": "sk_test_12345678"}, False),
])
def test_production_needs_allow_production(url: str, keys: dict[str, str], refused: bool) -> None:
    if refused:
        with pytest.raises(StopRun) as error:
            check_production(url, keys, allowed=False)
        assert error.value.exit_status == EXIT_PRODUCTION
        assert LIVE not in str(error.value)
    else:
        check_production(url, keys, allowed=False)
    check_production(url, keys, allowed=True)


def test_production_host_is_cstar_help_and_every_subdomain() -> None:
    assert is_production_host("https://CSTAR.HELP.:443/x")
    assert not is_production_host("http://127.0.0.1:8000/api/v1")


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
