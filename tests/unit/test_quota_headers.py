"""quota.py: what an answer's X-RateLimit-* headers say, and whether a run fits in it."""

from __future__ import annotations

from cstar_conformance.quota import EXPECTED_REQUESTS, Quota, read, shortfall

NOW = 1_800_000_000.0


def test_headers_are_read_in_any_letter_case_and_a_small_reset_is_seconds_from_now() -> None:
    stated = read({"X-RateLimit-Limit": "1000", "x-ratelimit-remaining": "412", "X-RATELIMIT-RESET": "1800000600"},
                  now=NOW)
    assert stated == Quota(1000, 412, 1_800_000_600.0, NOW)
    assert read({"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "60"}, now=NOW) == Quota(None, 5, NOW + 60, NOW)


def test_no_or_an_unreadable_remaining_states_no_quota() -> None:
    assert read({"X-RateLimit-Limit": "1000"}) is None
    assert read({"X-RateLimit-Remaining": "lots"}) is None


def test_a_run_fits_when_what_is_left_holds_the_profile_within_max_requests() -> None:
    gate = EXPECTED_REQUESTS["gate"]
    assert shortfall(Quota(1000, gate, None, NOW), "gate", 1000, used=1) is None
    assert shortfall(Quota(1000, 100, None, NOW), "gate", 100, used=1) is None  # --max-requests bounds the need
    reason = shortfall(Quota(1000, 300, NOW + 900, NOW), "gate", 1000, used=1)
    assert reason is not None and "leaves 300 of 1000" in reason and "needs up to" in reason and "UTC" in reason
    assert shortfall(Quota(1000, 300, NOW, NOW), "smoke", 1000, used=0) is not None


def test_another_profile_is_suggested_only_when_it_would_fit() -> None:
    thorough = shortfall(Quota(1000, 600, None, NOW), "thorough", 1000, used=1)
    assert thorough is not None and "--profile smoke" in thorough
    gate = shortfall(Quota(1000, 300, None, NOW), "gate", 1000, used=1)
    assert gate is not None and "--profile" not in gate and "a lower --max-requests" in gate


def test_a_quota_survives_its_round_trip_through_summary_json() -> None:
    stated = Quota(1000, 7, NOW + 1, NOW)
    assert Quota.from_dict(stated.as_dict()) == stated
