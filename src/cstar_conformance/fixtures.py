"""The suite's fixtures: wiring of the library into pytest (the logic lives in the library).

Registered by the plugin only for sessions that run the suites, wherever pytest starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory, audit
from cstar_conformance.reporting import rule_held
from cstar_conformance.session import Session, current, family
from cstar_conformance.target import Target
from cstar_conformance.waves import together
from cstar_conformance.webhooks import Receiver


@pytest.fixture(scope="session")
def cstar() -> Session:
    state = current()
    if state is None:
        pytest.skip("the conformance suite runs only from suites/ (pytest suites …)")
    return state


@pytest.fixture(scope="session")
def target(cstar: Session) -> Target:
    return cstar.target


@pytest.fixture(scope="session")
def run_id(cstar: Session) -> str:
    return cstar.run_id


@pytest.fixture(scope="session")
def api(cstar: Session) -> Iterator[ApiClient]:
    """The team under test, with its secret key."""
    client = cstar.client(cstar.target.team.api_key)
    yield client
    client.close()


@pytest.fixture(scope="session")
def factory(cstar: Session, api: ApiClient) -> Iterator[DataFactory]:
    """Run-tagged test data; everything it made is deleted at the end of the session, then both teams
    are audited for anything of this run that is left (deleted, and reported if it cannot be). What earlier runs
    left was swept at the run's start (lifecycle.sweep)."""
    made = DataFactory(api, cstar.run_id)
    while cstar.created:  # records made before the factory existed (the fuzzing anchor)
        made.track(*cstar.created.pop())
    cstar.traffic.budget.reserve = made.pending
    other = cstar.target.other_team
    teams = [api] + ([api.with_key(other.api_key, other.id)] if other else [])
    yield made
    if cstar.stopped and cstar.target.embedded:
        return  # the embedded target and its database go with the run: nothing outlives it
    if not cstar.stopped and cstar._observer is not None:
        cstar.observer.settle()  # every webhook event the run's writes imply: delivered, or overdue
        with family("inventory"):  # one list of everything the run made: its total is the model's count
            api.get("/customers", params={"search": cstar.run_id, "pageSize": 100})
    # A create sent just before an interrupt may still be landing on the target: give it a moment; and the
    # interrupt may have cut an exchange short on a pooled connection: the cleanup starts on new ones.
    settle = 0.5 if cstar.stopped else 0.0
    if cstar.stopped:
        api.renew_connections()
    with family("cleanup"):
        problems = made.cleanup(cascade=rule_held(cstar, "DELETE-CASCADE"))
        try:
            audits = together({n: partial(audit, team, cstar.run_id, settle) for n, team in enumerate(teams)})
            problems += [f"left on the target: {left}" for found in audits.values() for left in found]
        except Exception as exc:  # whatever stops it, the audit's end is reported, never a traceback
            problems.append(f"the audit could not finish: {type(exc).__name__}: {exc}")
    if problems and cstar.stopped:
        # Torn down by pytest after the run stopped, where a failure would be a traceback and no
        # verdict: what is left goes into the verdict instead.
        cstar.left_behind = problems
    elif problems:
        pytest.fail(f"[cleanup] records of run {cstar.run_id} remain: {'; '.join(problems[:5])}", pytrace=False)


@pytest.fixture(scope="session")
def other_api(cstar: Session, api: ApiClient) -> ApiClient:
    """The second team's secret key (tests that need it skip without --other-team-id/--other-api-key)."""
    other = cstar.target.other_team
    if other is None:
        pytest.skip("needs a second team: give --other-team-id and --other-api-key")
    return api.with_key(other.api_key, other.id)


@pytest.fixture(scope="session")
def publishable_api(cstar: Session, api: ApiClient) -> ApiClient:
    key = cstar.target.team.publishable_key
    if not key:
        pytest.skip("needs a publishable key: give --publishable-key")
    return api.with_key(key)


@pytest.fixture(scope="session")
def receiver(cstar: Session) -> Iterator[Receiver]:
    """The suite's webhook receiver: on 127.0.0.1 and a free port, or at --webhook-listen (a remote target
    reaches it through --webhook-public-url)."""
    target = cstar.target
    if not target.is_loopback and not target.webhook_public_url:
        pytest.skip("a remote target cannot reach the suite's receiver: give --webhook-public-url (and "
                    "--webhook-listen, the address it forwards to)")
    host, port = target.webhook_listen or ("127.0.0.1", 0)
    server = Receiver(host, public_url=target.webhook_public_url, on_delivery=cstar.observer.deliver,
                      port=port).start()
    cstar.observer.model.config.receivers.append(server.url(""))  # events are expected only for hooks there
    yield server
    server.stop()
