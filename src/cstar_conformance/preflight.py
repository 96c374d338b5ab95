"""The preflight: a few requests that prove, before any test, that the target is a JSON API that
answers, that each key is accepted and fit for its option (a secret key can write, a publishable key
cannot), and that each team is reachable. Each problem ends the run with one line and its own status.

The write probes are creates with an empty body: every conformant target rejects them (400/422) and
changes nothing, so they tell a write-capable key (400/422) from a read-only one (403) without making
a record — and if a broken target creates one anyway, it is deleted at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from cstar_conformance import network, quota
from cstar_conformance.client import ApiClient
from cstar_conformance.exits import EXIT_BUDGET, EXIT_CREDENTIALS, EXIT_UNREACHABLE, StopRun
from cstar_conformance.factory import sweep_query
from cstar_conformance.session import Session, family

TIMEOUT = 10.0


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _what(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0].strip()
    return f"{response.status_code} {kind}"


def _send(client: ApiClient, method: str, base_url: str, **kw: Any) -> httpx.Response:
    try:
        return client.request(method, "/customers", **kw)
    except httpx.TransportError as exc:
        problem = network.certificate_problem(exc)
        if problem is not None:
            raise StopRun(f"target {base_url} presents a TLS certificate this machine does not trust ({problem}; "
                          f"trusted: {client.trust.described()}): give the CA that signed it with --ca-bundle PATH "
                          "(or CSTAR_CA_BUNDLE, SSL_CERT_FILE)", EXIT_UNREACHABLE) from None
        proxies = network.environment_names()
        via = f" (through the proxy of {'/'.join(proxies)}; NO_PROXY lists hosts to reach directly)" if proxies \
            and network.proxy_for(base_url) else ""
        raise StopRun(f"target {base_url} is unreachable{via}: {type(exc).__name__}: {exc or 'no answer'}",
                      EXIT_UNREACHABLE) from None


def _reads(client: ApiClient, base_url: str, team_id: str, label: str, sweep: bool = False) -> httpx.Response | None:
    """The team's customer list answers 200 with a JSON object to this key. With `sweep`, the list asked is the
    first page the sweep of earlier runs' records reads (a search for the suite's marker), returned for it: one
    request fewer per team. A target whose search fails there is asked the plain list, and judged by that."""
    if sweep:
        response = _send(client, "GET", base_url, params=sweep_query(1))
        if response.status_code == 200 and _json_object(response) is not None:
            return response
        if response.status_code in (401, 403, 404):
            _judge(response, base_url, team_id, label)
    _judge(_send(client, "GET", base_url, params={"pageSize": 1}), base_url, team_id, label)
    return None


def _judge(response: httpx.Response, base_url: str, team_id: str, label: str) -> None:
    code = response.status_code
    if code == 401:
        raise StopRun(f"target {base_url} refused the key given by {label} (401)", EXIT_CREDENTIALS)
    if _json_object(response) is None:
        raise StopRun(f"target {base_url} does not answer as a JSON API: GET …/teams/{{teamId}}/customers "
                      f"gave {_what(response)}, not a JSON object; check the base URL (the API root, …/api/v1)",
                      EXIT_UNREACHABLE)
    if code in (403, 404):
        raise StopRun(f"team {team_id} is not accessible with the key given by {label} ({code}); check the "
                      "team id and the base URL (…/api/v1)", EXIT_CREDENTIALS)
    if code >= 300:
        raise StopRun(f"target {base_url} answered {code} to a plain list request", EXIT_UNREACHABLE)


def _write_probe(client: ApiClient, base_url: str) -> int:
    """POST an empty body: 400/422 from a key that may write, 403 from one that may not."""
    response = _send(client, "POST", base_url, json_body={})
    if response.status_code in (200, 201):  # a broken target made something of nothing: remove it
        record = (_json_object(response) or {}).get("data")
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            client.delete(f"/customers/{record['id']}")
    return response.status_code


def _secret_key(client: ApiClient, base_url: str, team_id: str, label: str,
                before_writing: Callable[[], None] = lambda: None) -> httpx.Response | None:
    """The key reads and writes; returns the sweep's first page when the target answered it (see _reads)."""
    first_page = _reads(client, base_url, team_id, label, sweep=True)
    before_writing()
    status = _write_probe(client, base_url)
    if status in (401, 403):
        raise StopRun(f"the key given by {label} cannot write (an invalid create answered {status}): it is a "
                      "publishable or read-only key; give the team's secret key (sk_test_…)", EXIT_CREDENTIALS)
    return first_page


def _publishable_key(client: ApiClient, base_url: str, team_id: str, label: str, key: str) -> None:
    _reads(client, base_url, team_id, label)
    if key.lower().startswith("pk_"):
        return  # a publishable key by its form: whether the target refuses its writes is a graded rule
    status = _write_probe(client, base_url)
    if status not in (401, 403):
        raise StopRun(f"the key given by {label} can write (an invalid create answered {status}, not 403): it "
                      "is not a publishable key", EXIT_CREDENTIALS)


def _quota_fits(session: Session) -> None:
    """The key's quota, when the target states it, holds what this run may need (quota.py); else the run
    stops here, before its first write, with the time the quota comes back."""
    stated = session.stats.quota_end
    if stated is None:
        return
    reason = quota.shortfall(stated, session.profile, session.traffic.budget.max_requests, session.stats.total)
    if reason is not None:
        raise StopRun(reason, EXIT_BUDGET)


def preflight(session: Session, sources: dict[str, str] | None = None) -> None:
    """Prove the target and every key are usable, in seconds; raise StopRun with the reason if not."""
    target = session.target
    named = sources or {}

    def label(*flags: str) -> str:
        return "/".join(named.get(flag, flag) for flag in flags)

    base = target.base_url
    with family("preflight"):
        # one client (and connection) per key: what one key proves here must not lean on a connection another
        # key opened (a target that ties identity to a kept-alive connection is for the checks to find)
        client = session.client(target.team.api_key, timeout=TIMEOUT)
        others: list[ApiClient] = []
        try:
            session.sweep_pages[target.team.id] = _secret_key(client, base, target.team.id,
                                                              label("--api-key", "--team-id"),
                                                              before_writing=lambda: _quota_fits(session))
            if target.other_team:
                other = session.client(target.other_team.api_key, target.other_team.id, timeout=TIMEOUT)
                others.append(other)
                session.sweep_pages[target.other_team.id] = _secret_key(
                    other, base, target.other_team.id, label("--other-api-key", "--other-team-id"))
            if target.team.publishable_key:
                publishable = session.client(target.team.publishable_key, timeout=TIMEOUT)
                others.append(publishable)
                _publishable_key(publishable, base, target.team.id, label("--publishable-key"),
                                 target.team.publishable_key)
        finally:
            for opened in (client, *others):
                opened.close()
