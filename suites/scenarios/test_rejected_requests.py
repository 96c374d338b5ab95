"""§1 a rejected request changes nothing and sends no event (REJECTED-CHANGES-NOTHING).

Two customers A and B of this team, and a webhook subscribed to every event ("*") when the target can
reach the suite's receiver. Then requests that must each get a 4xx — an invalid PATCH of A (a valid
field before the bad one), a create repeating A's address, a PATCH of B to A's address (with notes),
and PATCHes of A with the other team's key, with the publishable key and without a key (each when the
run has that credential) — after which A and B are read back: no field may have changed. Then a valid
sentinel create of C; once its customer.created has arrived (≤ 10 s) and a grace period passed, no event
about A or B (other than their creation) or about the refused duplicate may have come. Without a
receiver the event half is skipped with the reason; the field half still runs.

A request that was not refused makes the check unjudgeable: it is blocked by the rule that request
breaks (EMAIL-UNIQUE, PATCH-EMAIL-CONFLICT, …), whose own check is red."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session
from cstar_conformance.waves import together
from cstar_conformance.webhooks import Delivery, Receiver

CREATED = "customer.created"
EVENT_WITHIN = 10.0  # WEBHOOK-WITHIN-10S
# after the sentinel's event, before concluding that no other event came; one that comes later still is judged by
# the contract model (an event no accepted write explains, on every delivery until the run's end)
NO_EVENT_GRACE = 0.25
RULE_OF = {  # the rule each request breaks when it is not refused
    "invalid PATCH": "PATCH-INVALID-NOCHANGE",
    "duplicate create": "EMAIL-UNIQUE",
    "PATCH to a taken email": "PATCH-EMAIL-CONFLICT",
    "PATCH with the other team's key": "AUTH-CROSS-TEAM",
    "PATCH with the publishable key": "PK-READ-ONLY",
    "PATCH without a key": "AUTH-401",
}


@dataclass
class Rejections:
    a: dict[str, Any]  # as created
    b: dict[str, Any]
    refused_body: dict[str, Any]  # the duplicate create's body
    answers: dict[str, httpx.Response]  # request → its answer
    read_back: dict[str, httpx.Response] = field(default_factory=dict)  # "A"/"B" → GET after the requests
    hook_path: str | None = None
    no_events_because: str = ""  # why the event half cannot run, when it cannot
    sentinel_create: httpx.Response | None = None  # the create of C, after the refused requests
    sentinel: Delivery | None = None  # its customer.created

    def require_refused(self) -> None:
        for request, response in self.answers.items():
            if not 400 <= response.status_code < 500:
                capabilities.block(RULE_OF[request], f"the {request} was not refused, so it may legally have "
                                                     f"changed things: {expect.describe(response)}")


def _webhook(factory: DataFactory, request: pytest.FixtureRequest) -> tuple[str | None, str | None, str]:
    """(receiver path and id of a new "*" webhook, or None, None and the reason)."""
    try:
        receiver: Receiver = request.getfixturevalue("receiver")
    except pytest.skip.Exception as exc:
        return None, None, str(exc.msg)
    path = f"/{factory.unique('hook-rejected')}"
    response = factory.create_webhook(receiver.url(path), ["*"])
    if response.status_code in (404, 405):
        return None, None, f"the target has no webhook registration: POST /webhooks answered {response.status_code}"
    hook_id = (response.json().get("data") or {}).get("id") if response.status_code in (200, 201) else None
    if not isinstance(hook_id, str):
        return None, None, f"set-up: registering the webhook failed: {expect.describe(response)}"
    return path, hook_id, ""


@pytest.fixture(scope="module")
def rejections(cstar: Session, api: ApiClient, factory: DataFactory,
               request: pytest.FixtureRequest) -> Iterator[Rejections]:
    hook_path, hook_id, no_events_because = _webhook(factory, request)
    # independent requests in waves (waves.py): the two customers; the refused requests (each must be refused
    # whatever the others do — one that is not fails the check, in any order); the two reads
    made_ab = together({label: partial(capabilities.create_customer, factory, f"rejected-{label}",
                                       notes=f"{label.upper()} before") for label in ("a", "b")})
    a, b = made_ab["a"], made_ab["b"]
    path_a, path_b = f"/customers/{a['id']}", f"/customers/{b['id']}"
    refused_body = factory.customer_body("rejected-dup", email=a["email"], notes="the refused duplicate")
    sends: dict[str, Callable[[], httpx.Response]] = {
        "invalid PATCH": partial(api.patch, path_a, {"notes": "written before a bad enum", "status": "archived"}),
        "duplicate create": partial(factory.post_customer, refused_body),
        "PATCH to a taken email": partial(api.patch, path_b, {"email": a["email"],
                                                              "notes": "written before the conflict"}),
    }
    other, publishable = cstar.target.other_team, cstar.target.team.publishable_key
    if other is not None:
        intruder = api.with_key(other.api_key, api.team_id)  # the other team's key, this team's path
        sends["PATCH with the other team's key"] = partial(intruder.patch, path_a,
                                                           {"notes": "written by the other team"})
    if publishable:
        sends["PATCH with the publishable key"] = partial(api.with_key(publishable).patch, path_a,
                                                          {"notes": "written with the publishable key"})
    sends["PATCH without a key"] = partial(api.with_key(None).patch, path_a, {"notes": "written without a key"})
    answers = together(sends)
    made = Rejections(a, b, refused_body, answers, hook_path=hook_path, no_events_because=no_events_because)
    made.read_back = together({"A": partial(api.get, path_a), "B": partial(api.get, path_b)})
    if hook_path is not None:
        receiver: Receiver = request.getfixturevalue("receiver")
        made.sentinel_create = factory.post_customer(factory.tagged_body("rejected-sentinel"))
        c = made.sentinel_create.json().get("data") if 200 <= made.sentinel_create.status_code < 300 else None
        if isinstance(c, dict) and isinstance(c.get("id"), str):
            made.sentinel = receiver.wait_for(hook_path, _created_event(c["id"]), EVENT_WITHIN)
            time.sleep(NO_EVENT_GRACE)
    yield made
    if hook_id is not None and api.delete(f"/webhooks/{hook_id}").status_code in (200, 202, 204, 404):
        factory.forget("webhook", hook_id)  # deregistered now, so later modules' events are not sent here


def _created_event(customer_id: str) -> Any:
    def match(delivery: Delivery) -> bool:
        payload = delivery.payload()
        return (isinstance(payload, dict) and payload.get("type") == CREATED
                and delivery.customer().get("id") == customer_id)
    return match


@pytest.mark.rule("REJECTED-CHANGES-NOTHING")
def test_rejected_requests_change_no_field_of_any_record(rejections: Rejections) -> None:
    rejections.require_refused()
    diffs = []
    for label, before in (("A", rejections.a), ("B", rejections.b)):
        stored = capabilities.stored(rejections.read_back[label], before["id"])
        diffs += [f"{label} {d}" for d in expect.same_customer(stored, before)]
    assert not diffs, (f"[REJECTED-CHANGES-NOTHING] stored fields changed although every request was refused: "
                       f"{diffs} (requests: {', '.join(rejections.answers)})")


@pytest.mark.rule("REJECTED-CHANGES-NOTHING")
def test_rejected_requests_send_no_webhook_event(rejections: Rejections, receiver: Receiver) -> None:
    if rejections.hook_path is None:
        pytest.skip(rejections.no_events_because)
    rejections.require_refused()
    if rejections.sentinel_create is not None and not 200 <= rejections.sentinel_create.status_code < 300:
        capabilities.block("CREATE-2XX", f"set-up: the sentinel create was refused: "
                                         f"{expect.describe(rejections.sentinel_create)}")
    capabilities.sentinel_arrived(rejections.sentinel, CREATED, "a valid create made after the refused requests",
                                  EVENT_WITHIN)
    a, b, refused = rejections.a, rejections.b, rejections.refused_body
    wrong = []
    for delivery in receiver.events(rejections.hook_path):
        payload = delivery.payload()
        kind = payload.get("type") if isinstance(payload, dict) else None
        customer = delivery.customer()
        about = customer.get("id")
        if about in (a["id"], b["id"]) and kind == CREATED:
            continue  # the creation of A and B during set-up
        if about in (a["id"], b["id"]):
            wrong.append(f"{kind} about {'A' if about == a['id'] else 'B'} ({about}): {delivery.body[:300]!r}")
        elif (str(customer.get("email", "")).lower() == refused["email"].lower()
              or customer.get("name") == refused["name"]):
            wrong.append(f"{kind} for the refused duplicate create (id {about}): {delivery.body[:300]!r}")
    assert not wrong, (f"[REJECTED-CHANGES-NOTHING] webhook events came for refused requests: {wrong[:3]} "
                       f"(requests: {', '.join(rejections.answers)})")
