"""The target's request quota, as cStar states it on every answer: X-RateLimit-Limit, X-RateLimit-Remaining and
X-RateLimit-Reset (unix time; a small number is read as seconds from now, as some gateways send it). The
preflight compares what is left with what the run may need, and stops before its first write when it does
not fit; summary.json records the quota at the start and at the end. Pure: no HTTP."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What a run of each profile sends at most (measured, README "Profiles"), with some room
EXPECTED_REQUESTS = {"smoke": 480, "gate": 480, "thorough": 1000}
_EPOCH_FLOOR = 1_000_000_000  # below: seconds until the reset, not a unix time


@dataclass(frozen=True)
class Quota:
    limit: int | None
    remaining: int
    reset: float | None  # unix time the window ends
    seen_at: float  # unix time of the answer that said so

    def as_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "remaining": self.remaining, "reset": self.reset,
                "reset_at": _utc(self.reset) if self.reset is not None else None, "seen_at": round(self.seen_at, 3)}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Quota:
        return Quota(data.get("limit"), int(data["remaining"]), data.get("reset"), float(data.get("seen_at", 0)))


def _integer(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def read(headers: Mapping[str, str], now: float | None = None) -> Quota | None:
    """The quota an answer states, or None when it states none (no, or an unreadable, Remaining)."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    remaining = _integer(lower.get("x-ratelimit-remaining"))
    if remaining is None:
        return None
    seen = time.time() if now is None else now
    reset = _integer(lower.get("x-ratelimit-reset"))
    when = None if reset is None else float(reset if reset >= _EPOCH_FLOOR else seen + reset)
    return Quota(_integer(lower.get("x-ratelimit-limit")), max(0, remaining), when, seen)


def shortfall(quota: Quota, profile: str, max_requests: int, used: int) -> str | None:
    """Why the run cannot fit in what is left (None when it can): the profile's requests, at most
    --max-requests, less what the run has sent already (the answer that stated the quota counted it)."""
    needed = min(EXPECTED_REQUESTS.get(profile, max_requests), max_requests) - used
    if quota.remaining >= needed:
        return None
    of = f" of {quota.limit}" if quota.limit is not None else ""
    until = f" until {_utc(quota.reset)} (X-RateLimit-Reset)" if quota.reset is not None else ""
    # another profile is advice only when it would fit; a lower --max-requests always fits, and stops the run
    # (incomplete, its records deleted) when it is spent
    smaller = [other for other in ("smoke", "gate") if other != profile
               and min(EXPECTED_REQUESTS[other], max_requests) - used <= quota.remaining]
    instead = f"choose --profile {smaller[0]} or " if smaller else "choose "
    return (f"the target's rate limit leaves {quota.remaining}{of} requests for this key{until}; a {profile} run "
            f"needs up to {needed} more: start it after the reset, or {instead}a lower --max-requests (the run "
            "then stops, incomplete, when it is spent)")


def _utc(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))
