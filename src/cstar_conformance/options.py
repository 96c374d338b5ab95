"""The suite's options: declared once (flag, environment variable, meaning), read from the command
line or the environment, and checked before anything else happens — a value from the environment
exactly like the same value given as a flag. Every error names the flag or variable it came from.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cstar_conformance.exits import EXIT_CREDENTIALS, EXIT_USAGE, StopRun
from cstar_conformance.network import Trust, resolve_trust

PROFILES = ("smoke", "gate", "thorough")
DEFAULT_SEED = 20261127
DEFAULT_MAX_REQUESTS = 1000  # cStar allows 1,000 requests per hour per key
DEFAULT_SWEEP_MINUTES = 10.0
MAX_SEED = 2**63 - 1
MAX_RPS = 1000.0
MAX_SWEEP_MINUTES = 60 * 24 * 365
MAX_REQUESTS_LIMIT = 1_000_000
MIN_REQUESTS = 20  # the preflight and the cleanup of a handful of records
_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-\.]{8,}$")


@dataclass(frozen=True)
class Spec:
    """One suite option: its flag, its environment fallback and what it means."""

    flag: str
    env: str | None
    help: str

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


OPTIONS: tuple[Spec, ...] = (
    Spec("--api-key", "CSTAR_API_KEY", "secret API key of the team under test (sk_test_…)"),
    Spec("--team-id", "CSTAR_TEAM_ID", "team id (UUID) under test"),
    Spec("--other-team-id", "CSTAR_OTHER_TEAM_ID", "a second team, for tenant-isolation tests"),
    Spec("--other-api-key", "CSTAR_OTHER_API_KEY", "secret key of the second team"),
    Spec("--publishable-key", "CSTAR_PUBLISHABLE_KEY", "publishable key (pk_…) of the team, optional"),
    Spec("--webhook-public-url", "CSTAR_WEBHOOK_PUBLIC_URL",
         "public URL that forwards to the suite's webhook receiver (remote targets; see --webhook-listen)"),
    Spec("--webhook-listen", "CSTAR_WEBHOOK_LISTEN",
         "HOST:PORT the webhook receiver binds (default 127.0.0.1, a free port): the address a tunnel, a reverse "
         "proxy or the cluster forwards --webhook-public-url to"),
    Spec("--ca-bundle", "CSTAR_CA_BUNDLE",
         "CA certificate (PEM file, or c_rehash folder) the target's TLS certificate chains to, for every request "
         "the suite sends (default: SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE, else certifi's bundle)"),
    Spec("--profile", "CSTAR_PROFILE", "smoke | gate | thorough (default gate)"),
    Spec("--seed", "CSTAR_SEED", f"Hypothesis seed, an integer ≥ 0 (default {DEFAULT_SEED}, printed)"),
    Spec("--spec", "CSTAR_SPEC", "the OpenAPI 3.1 contract to fuzz with (default openapi/customers.yaml)"),
    Spec("--max-rps", "CSTAR_MAX_RPS", f"throttle the suite to N requests per second (0 < N ≤ {MAX_RPS:.0f})"),
    Spec("--max-requests", "CSTAR_MAX_REQUESTS",
         f"stop with 'budget exhausted' before sending more than N requests (default {DEFAULT_MAX_REQUESTS})"),
    Spec("--sweep-older-than", "CSTAR_SWEEP_OLDER_THAN",
         "minutes (≥ 0) after which records of earlier, interrupted runs are swept (default 10)"),
    Spec("--reports-dir", "CSTAR_REPORTS_DIR",
         "where junit.xml, allure-results and summary.json go (default: ini cstar_reports_dir, reports/)"),
    Spec("--baseline", "CSTAR_BASELINE", "a previous run's summary.json (path or http(s) URL) to diff verdicts with"),
    Spec("--fail-on", "CSTAR_FAIL_ON", "any (default): any MUST failure fails the run; new: only failures the "
         "--baseline did not have (known ones are still listed)"),
    Spec("--target-version", "CSTAR_TARGET_VERSION",
         "what is deployed on the target (e.g. its commit): tells flaky checks from regressions in the diff"),
)
BY_FLAG = {spec.flag: spec for spec in OPTIONS}
# Options that describe a remote target: given without a base URL they would be silently ignored.
REMOTE_ONLY = ("--api-key", "--team-id", "--other-team-id", "--other-api-key", "--publishable-key",
               "--webhook-public-url")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("cstar", "cStar Customers API conformance")
    for spec in OPTIONS:
        group.addoption(spec.flag, dest=spec.dest, default=None, metavar="VALUE",
                        help=spec.help + (f" [env {spec.env}]" if spec.env else ""))
    group.addoption("--allow-production", action="store_true", default=False,
                    help="allow destructive tests against a production host or a live key")
    group.addoption("--reference-fault", action="append", default=[],
                    help="(self-tests) start the embedded reference with this fault switch; repeatable")
    group.addoption("--reference-arg", action="append", default=[],
                    help="(self-tests) extra argument for the embedded reference, e.g. --reference-arg=--rate-limit=40")
    group.addoption("--reference-variant", default=None,
                    help="(self-tests) embedded reference variant (default clean)")
    parser.addini("cstar_reports_dir", "where junit.xml, allure-results and summary.json go", default="reports")


@dataclass(frozen=True)
class Value:
    """A raw option value and where it came from ("--seed" or "CSTAR_SEED")."""

    text: str
    source: str

    def named(self) -> str:
        return f"{self.source}={self.text!r}" if not self.source.startswith("--") else f"{self.source} {self.text!r}"


@dataclass(frozen=True)
class RunOptions:
    base_url: str | None
    api_key: str | None = None
    team_id: str | None = None
    other_team_id: str | None = None
    other_api_key: str | None = None
    publishable_key: str | None = None
    webhook_public_url: str | None = None
    webhook_listen: tuple[str, int] | None = None
    trust: Trust = field(default_factory=Trust)
    profile: str = "gate"
    seed: int = DEFAULT_SEED
    spec: Path | None = None
    max_rps: float = 0.0
    max_requests: int = DEFAULT_MAX_REQUESTS
    sweep_minutes: float = DEFAULT_SWEEP_MINUTES
    reports_dir: Path = Path("reports")
    allow_production: bool = False
    strict: bool = False
    reference_faults: tuple[str, ...] = ()
    reference_args: tuple[str, ...] = ()
    reference_variant: str = "clean"
    baseline: str | None = None
    fail_on: str = "any"
    target_version: str | None = None
    sources: dict[str, str] = field(default_factory=dict)  # flag → where its value came from


def raw_values(option: Any, environ: dict[str, str] | os._Environ[str]) -> dict[str, Value]:
    """Every option given, by flag: a flag wins over its variable; a variable set to "" counts as unset
    (CI systems export unset variables empty) — except PYTEST_BASE_URL, handled by `base_url_value`."""
    found: dict[str, Value] = {}
    for spec in OPTIONS:
        given = getattr(option, spec.dest, None)
        if given is not None:
            found[spec.flag] = Value(str(given), spec.flag)
        elif spec.env and environ.get(spec.env, "").strip():
            found[spec.flag] = Value(environ[spec.env], spec.env)
    return found


def base_url_value(option: Any, args: list[str], environ: dict[str, str] | os._Environ[str],
                   ini: str) -> Value | None:
    """The base URL as given (pytest-base-url's --base-url, PYTEST_BASE_URL, or ini base_url): None
    when it was given nowhere, a Value (possibly blank) when it was given at all."""
    given = getattr(option, "base_url", None)
    if given is not None:
        flag = any(a == "--base-url" or a.startswith("--base-url=") for a in args)
        return Value(str(given), "--base-url" if flag else "PYTEST_BASE_URL")
    if ini.strip():
        return Value(ini, "base_url (ini)")
    return None


def _usage(message: str) -> StopRun:
    return StopRun(message, EXIT_USAGE)


def _number(value: Value, kind: type, low: float, high: float, meaning: str) -> Any:
    try:
        number = kind(value.text.strip())
    except ValueError:
        raise _usage(f"{value.named()} is not {meaning}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise _usage(f"{value.named()} is not {meaning}")
    if not low <= number <= high:
        raise _usage(f"{value.named()} is out of range: give {meaning}")
    return number


def check_http_url(value: Value, what: str) -> str:
    """An http(s) URL with a host and no credentials, query or fragment; the password is never echoed."""
    text = value.text.strip()
    if not text:
        hint = (" (a CI variable that is not defined?)" if not value.source.startswith("--") else "")
        raise _usage(f"{value.source} is empty{hint}: give {what}, or leave it out entirely")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise _usage(f"{value.source} is not a valid URL: give {what}") from None
    if parts.username is not None or parts.password is not None:
        raise _usage(f"{value.source} carries credentials (user:password@): remove them — the suite "
                     "authenticates with --api-key, and would print the URL in its reports")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme else text[:80]
        raise _usage(f"{value.source} {shown!r} is not an http(s) URL: give {what}")
    if parts.query or parts.fragment:
        raise _usage(f"{value.source} has a query or fragment: give {what} without '?…' or '#…'")
    return text


def _key(value: Value | None, role: str) -> str | None:
    if value is None:
        return None
    text = value.text.strip()
    if not text:
        raise _usage(f"{value.source} is empty: give {role}, or leave the option out")
    if not _KEY_SHAPE.match(text):
        raise _usage(f"{value.source} is not a plausible API key (letters, digits, '_', '-', '.'; 8 or more)")
    return text


def _text(value: Value | None, role: str) -> str | None:
    if value is None:
        return None
    text = value.text.strip()
    if not text:
        raise _usage(f"{value.source} is empty: give {role}, or leave the option out")
    return text


def resolve(option: Any, args: list[str], environ: dict[str, str] | os._Environ[str], ini_base_url: str,
            ini_reports_dir: str, invocation_dir: Path) -> RunOptions:
    """Read and check every option; raise StopRun (usage, 4) naming the first bad one."""
    raw = raw_values(option, environ)
    url_value = base_url_value(option, args, environ, ini_base_url)
    base_url = check_http_url(url_value, "the API root (…/api/v1)") if url_value is not None else None
    reference = [flag for flag, given in (("--reference-fault", option.reference_fault),
                                          ("--reference-arg", option.reference_arg),
                                          ("--reference-variant", option.reference_variant)) if given]
    if base_url is None:
        remote = [raw[flag].source for flag in REMOTE_ONLY if flag in raw]
        if remote:
            raise _usage(f"{', '.join(remote)} given without a base URL: they describe a remote target; give "
                         "--base-url (or PYTEST_BASE_URL) too — the embedded reference runs only when no URL, "
                         "key or team is given anywhere")
    elif reference:
        raise _usage(f"{reference[0]} applies to the embedded reference only, not to --base-url {base_url}")

    api_key = _key(raw.get("--api-key"), "the team's secret key")
    team_id = _text(raw.get("--team-id"), "the team id")
    other_team_id = _text(raw.get("--other-team-id"), "the second team's id")
    other_api_key = _key(raw.get("--other-api-key"), "the second team's secret key")
    publishable_key = _key(raw.get("--publishable-key"), "the team's publishable key")
    if base_url is not None:
        missing = [spec.flag + (f" (or {spec.env})" if spec.env else "")
                   for spec, given in ((BY_FLAG["--api-key"], api_key), (BY_FLAG["--team-id"], team_id))
                   if not given]
        if missing:
            blank = [spec.env for spec in (BY_FLAG["--api-key"], BY_FLAG["--team-id"])
                     if spec.env and spec.env in environ and not environ[spec.env].strip()]
            note = f"; {', '.join(blank)} {'is' if len(blank) == 1 else 'are'} set but empty" if blank else ""
            raise _usage(f"--base-url needs {' and '.join(missing)}{note}")
    if bool(other_team_id) != bool(other_api_key):
        raise _usage("--other-team-id and --other-api-key go together: give both or neither")
    if other_team_id and team_id and other_team_id.lower() == team_id.lower():
        raise _usage(f"{raw['--other-team-id'].source} is the team under test: the tenant-isolation tests "
                     "need a second, distinct team")
    if other_api_key and other_api_key == api_key:
        raise _usage(f"{raw['--other-api-key'].source} is the key of the team under test: the second team "
                     "needs its own key")
    for flag, key in (("--api-key", api_key), ("--other-api-key", other_api_key)):
        if key and key.lower().startswith("pk_"):
            raise StopRun(f"{raw[flag].source} is a publishable key (pk_…), which cannot write: give the "
                          "team's secret key (sk_test_…); a publishable key goes in --publishable-key",
                          EXIT_CREDENTIALS)
    if publishable_key and (publishable_key.lower().startswith(("sk_", "rk_")) or publishable_key in (
            api_key, other_api_key)):
        raise StopRun(f"{raw['--publishable-key'].source} is a secret key: give the team's publishable "
                      "key (pk_…), or leave the option out", EXIT_CREDENTIALS)
    webhook = raw.get("--webhook-public-url")
    webhook_url = check_http_url(webhook, "the public URL that forwards to the suite's receiver") if webhook else None
    listen = listen_address(raw["--webhook-listen"]) if "--webhook-listen" in raw else None
    bundle = raw.get("--ca-bundle")
    trust = resolve_trust(bundle.text if bundle else None, bundle.source if bundle else "--ca-bundle", environ)
    workers = getattr(option, "numprocesses", None)
    if listen is not None and workers not in (None, 0, "0"):
        raise _usage(f"{raw['--webhook-listen'].source} binds one port, which one process holds: run it without "
                     "-n (xdist)")

    profile = (raw["--profile"].text.strip() if "--profile" in raw else "gate")
    if profile not in PROFILES:
        raise _usage(f"{raw['--profile'].named()} is not a profile: give smoke, gate or thorough")
    seed = _number(raw["--seed"], int, 0, MAX_SEED, "an integer seed ≥ 0") if "--seed" in raw else DEFAULT_SEED
    max_rps = (_number(raw["--max-rps"], float, 0, MAX_RPS, f"a rate above 0 and at most {MAX_RPS:.0f} "
                       "requests per second") if "--max-rps" in raw else 0.0)
    if "--max-rps" in raw and max_rps <= 0:
        raise _usage(f"{raw['--max-rps'].named()} is out of range: give a rate above 0 requests per second "
                     "(leave the option out for no throttle)")
    max_requests = (_number(raw["--max-requests"], int, MIN_REQUESTS, MAX_REQUESTS_LIMIT,
                            f"a whole number of requests from {MIN_REQUESTS} to {MAX_REQUESTS_LIMIT:,}")
                    if "--max-requests" in raw else DEFAULT_MAX_REQUESTS)
    sweep = (_number(raw["--sweep-older-than"], float, 0, MAX_SWEEP_MINUTES,
                     f"minutes from 0 to {MAX_SWEEP_MINUTES:,} (records younger than that may be a "
                     "concurrent run's)") if "--sweep-older-than" in raw else DEFAULT_SWEEP_MINUTES)
    spec_path = None
    if "--spec" in raw:
        spec_text = raw["--spec"].text.strip()
        if not spec_text:
            raise _usage(f"{raw['--spec'].source} is empty: give the path of an OpenAPI 3.1 file")
        spec_path = (invocation_dir / spec_text).resolve()
    baseline = _text(raw.get("--baseline"), "a previous run's summary.json")
    if baseline is not None and not re.match(r"^https?://", baseline, re.IGNORECASE):
        baseline = str(invocation_dir / baseline)
    fail_on = raw["--fail-on"].text.strip() if "--fail-on" in raw else "any"
    if fail_on not in ("any", "new"):
        raise _usage(f"{raw['--fail-on'].named()} is not a choice: give any or new")
    if fail_on == "new" and baseline is None:
        raise _usage(f"{raw['--fail-on'].source} new needs --baseline (or CSTAR_BASELINE): the failures it "
                     "lets through are the ones a previous run already had")
    target_version = _text(raw.get("--target-version"), "the deployed version")
    reports = raw["--reports-dir"].text.strip() if "--reports-dir" in raw else ini_reports_dir
    if not reports.strip():
        raise _usage("--reports-dir is empty: give a folder for junit.xml, allure-results and summary.json")
    return RunOptions(
        base_url=base_url.rstrip("/") if base_url else None, api_key=api_key, team_id=team_id,
        other_team_id=other_team_id, other_api_key=other_api_key, publishable_key=publishable_key,
        webhook_public_url=webhook_url, webhook_listen=listen, trust=trust, profile=profile, seed=seed, spec=spec_path,
        max_rps=float(max_rps),
        max_requests=max_requests, sweep_minutes=float(sweep), reports_dir=(invocation_dir / reports),
        allow_production=bool(option.allow_production), strict=bool(getattr(option, "strict", False)),
        reference_faults=tuple(option.reference_fault or ()), reference_args=tuple(option.reference_arg or ()),
        reference_variant=option.reference_variant or "clean", baseline=baseline, fail_on=fail_on,
        target_version=target_version,
        sources={flag: value.source for flag, value in raw.items()},
    )


def listen_address(value: Value) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets): where the webhook receiver binds."""
    text = value.text.strip()
    match = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.\-]+)):(\d{1,5})", text)
    if not match:
        raise _usage(f"{value.named()} is not HOST:PORT: give the address and port the receiver binds, e.g. "
                     "0.0.0.0:8080")
    port = int(match.group(3))
    if not 1 <= port <= 65535:
        raise _usage(f"{value.named()} has no usable port: give one from 1 to 65535 (the port the forwarder "
                     "sends to)")
    return (match.group(1) or match.group(2), port)


def reports_dir(option: Any, environ: dict[str, str] | os._Environ[str], ini: str, invocation_dir: Path) -> Path:
    """The reports folder alone (needed before the other options are checked, to record their errors)."""
    given = getattr(option, "reports_dir", None)
    if given is None and environ.get("CSTAR_REPORTS_DIR", "").strip():
        given = environ["CSTAR_REPORTS_DIR"]
    text = str(given).strip() if given is not None else ini
    return invocation_dir / (text or "reports")
