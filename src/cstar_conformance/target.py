"""Target selection: which API the suite talks to, and the preflight that proves it can.

A target is either a base URL given by the user (staging, a local build) or the embedded
reference implementation, started as a subprocess on 127.0.0.1 with a fresh database.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from cstar_conformance.reference.process import ReferenceStartError, RunningReference, start_reference

# Distinct exit statuses (documented in the README); pytest's own are 0-5.
EXIT_USAGE = 4  # pytest's USAGE_ERROR: a missing or malformed option
EXIT_UNREACHABLE = 10  # the target does not answer
EXIT_CREDENTIALS = 11  # the key is refused or the team is not accessible
EXIT_SPEC = 12  # the OpenAPI contract file is missing or invalid
EXIT_PRODUCTION = 13  # a production target without --allow-production


class PreflightError(Exception):
    """A reason the run cannot start, with the exit status that names it."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class Team:
    id: str
    api_key: str
    publishable_key: str | None = None


@dataclass(frozen=True)
class Target:
    base_url: str
    team: Team
    other_team: Team | None = None
    webhook_public_url: str | None = None
    embedded: bool = False
    description: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @property
    def is_loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in {"localhost", "::1"} or host.startswith("127.")

    def secrets(self) -> list[str]:
        """Every secret the suite holds for this target, for masking."""
        keys = [self.team.api_key, self.team.publishable_key]
        if self.other_team:
            keys += [self.other_team.api_key, self.other_team.publishable_key]
        return [k for k in keys if k]


_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-\.]{8,}$")


def validate_options(base_url: str | None, api_key: str | None, team_id: str | None,
                     other_team_id: str | None, other_api_key: str | None) -> None:
    """Raise a usage PreflightError for options that cannot work, before any request."""
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise PreflightError(f"--base-url {base_url!r} is not an http(s) URL", EXIT_USAGE)
        missing = [name for name, value in (("--api-key", api_key), ("--team-id", team_id)) if not value]
        if missing:
            raise PreflightError(
                f"--base-url needs {' and '.join(missing)} (or CSTAR_API_KEY / CSTAR_TEAM_ID)", EXIT_USAGE
            )
    if api_key is not None and not _KEY_SHAPE.match(api_key):
        raise PreflightError("--api-key is not a plausible API key (expected sk_test_…)", EXIT_USAGE)
    if bool(other_team_id) != bool(other_api_key):
        raise PreflightError("--other-team-id and --other-api-key go together: give both or neither", EXIT_USAGE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedReference:
    """The reference implementation in a subprocess, for one session (fresh database, free port)."""

    def __init__(self, faults: list[str] | None = None, variant: str = "clean",
                 extra_args: list[str] | None = None) -> None:
        self.faults = list(faults or [])
        self.variant = variant
        self.extra_args = list(extra_args or [])
        self.running: RunningReference | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 30.0) -> dict[str, Any]:
        args = ["--host", "127.0.0.1", *(a for fault in self.faults for a in ("--fault", fault))]
        if self.variant != "clean":
            args += ["--variant", self.variant]
        try:
            self.running = start_reference([*args, *self.extra_args], timeout=timeout)
        except ReferenceStartError as exc:
            last = [line for line in str(exc).splitlines() if line.strip()][-1:]
            status = EXIT_USAGE if exc.returncode == 2 else EXIT_UNREACHABLE
            raise PreflightError(f"the embedded reference did not start: {' '.join(last)}", status) from None
        self.info = self.running.ready
        return self.info

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()

    def target(self, webhook_public_url: str | None = None) -> Target:
        teams = self.info["teams"]
        assert isinstance(teams, list)
        first, second = (Team(t["id"], t["secret_key"], t.get("publishable_key")) for t in teams[:2])
        return Target(
            base_url=str(self.info["base_url"]), team=first, other_team=second,
            webhook_public_url=webhook_public_url, embedded=True,
            description=f"embedded reference ({self.variant}"
                        + (f", faults: {', '.join(self.faults)}" if self.faults else "") + ")",
            details={"variant": self.variant, "faults": self.faults},
        )


def preflight(target: Target, timeout: float = 5.0) -> None:
    """Prove the target answers, the key is accepted and the team is reachable — in seconds."""
    with httpx.Client(timeout=timeout) as client:
        for team, label in ((target.team, "--api-key/--team-id"),
                            *(((target.other_team, "--other-api-key/--other-team-id"),)
                              if target.other_team else ())):
            url = f"{target.base_url.rstrip('/')}/teams/{team.id}/customers"
            try:
                response = client.get(url, params={"pageSize": 1},
                                      headers={"Authorization": f"Bearer {team.api_key}"})
            except httpx.TransportError as exc:
                raise PreflightError(
                    f"target {target.base_url} is unreachable: {type(exc).__name__}: {exc or 'no answer'}",
                    EXIT_UNREACHABLE,
                ) from None
            if response.status_code == 401:
                raise PreflightError(f"target {target.base_url} refused the key given by {label} (401)",
                                     EXIT_CREDENTIALS)
            if response.status_code in (403, 404):
                raise PreflightError(
                    f"team {team.id} is not accessible with the key given by {label} "
                    f"({response.status_code}); check the team id and the base URL (…/api/v1)",
                    EXIT_CREDENTIALS,
                )
            if response.status_code >= 500 or response.status_code == 429:
                raise PreflightError(
                    f"target {target.base_url} answered {response.status_code} to a plain list request",
                    EXIT_UNREACHABLE,
                )



PRODUCTION_HOSTS = {"cstar.help", "www.cstar.help", "app.cstar.help"}


def check_production(target: Target, allowed: bool) -> None:
    """Refuse to create and delete records on production unless explicitly allowed."""
    host = urlsplit(target.base_url).hostname or ""
    live_key = target.team.api_key.startswith("sk_live_")
    if (host in PRODUCTION_HOSTS or live_key) and not allowed:
        why = "an sk_live_ key" if live_key else f"production host {host}"
        raise PreflightError(
            f"refusing to run destructive tests with {why}; use a staging target and an sk_test_ key, "
            "or pass --allow-production", EXIT_PRODUCTION)
