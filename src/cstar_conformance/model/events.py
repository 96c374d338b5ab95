"""The webhook side of the model: the events each accepted write implies for each of the run's registrations
(required, or only allowed where the contract leaves it open), and every delivery judged against them —
signature, payload, subscription, team, deleted registrations, event ids, and the delivery bounds."""

from __future__ import annotations

import copy
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from cstar_conformance.model.exchange import Delivery, Exchange, Violation
from cstar_conformance.model.state import State, WebhookRec, differences, view

MUST_WITHIN, SHOULD_WITHIN = 10.0, 2.0
HOLD = 2.0  # a delivery no write explains yet is judged this long after it came (its write's answer may lag)
SIGNATURE_TOLERANCE = 300
WIRE = {"id": "id", "name": "name", "email": "email", "status": "status", "sentiment": "sentiment", "tags": "tags",
        "notes": "notes", "custom_fields": "customFields", "ticket_count": "ticketCount",
        "created_at": "createdAt", "updated_at": "updatedAt"}
PAYLOAD_KEYS = ("id", "type", "created_at", "team_id", "data")


@dataclass
class Expected:
    """An event the run's write implies for one registration."""

    hook: str
    type: str
    customer: str
    values: list[dict[str, Any]]  # the customer as the payload may show it
    answered: float  # wall clock of the write's answer
    write: Exchange
    required: bool
    tickets: tuple[int, int] | None = None  # the legal ticket_count, when the write's answer did not show it
    delivered: float | None = None
    event_id: str | None = None
    reported: bool = False


def verify_signature(secret: str, header: str | None, body: bytes, now: float) -> str | None:
    """None when `header` is `t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` with t near `now`."""
    if not header:
        return "no X-Signature header"
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value.strip())
    if len(parts.get("t", [])) != 1 or "v1" not in parts:
        return f"X-Signature {header!r} is not t=<seconds>,v1=<hex>"
    stamp = parts["t"][0]
    if not stamp.isascii() or not stamp.isdigit():
        return f"X-Signature t={stamp!r} is not a number of seconds"
    if abs(now - int(stamp)) > SIGNATURE_TOLERANCE:
        return f"X-Signature t={stamp} is {now - int(stamp):+.0f} s from now (more than {SIGNATURE_TOLERANCE} s)"
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, v.lower().encode("utf-8", "replace")) for v in parts["v1"]):
        return "X-Signature v1 is not HMAC-SHA256(secret, \"<t>.<raw body>\")"
    return None


def customer_of(payload: Any) -> dict[str, Any] | None:
    """The payload's customer in the API's field names, or None when it has no such object."""
    data = payload.get("data") if isinstance(payload, dict) else None
    wire = data.get("customer") if isinstance(data, dict) else None
    if not isinstance(wire, dict):
        return None
    return {api: wire.get(name, _MISSING) for name, api in WIRE.items()}


_MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(missing)"})()


@dataclass
class Ledger:
    expected: list[Expected] = field(default_factory=list)
    held: list[tuple[Delivery, WebhookRec]] = field(default_factory=list)  # deliveries no write explains yet
    ids: dict[str, tuple[str, str, Delivery]] = field(default_factory=dict)  # event id → (type, customer, first)

    def fork(self) -> Ledger:
        """A copy to try a concurrent batch in one order (the real ledger takes the order chosen)."""
        return Ledger([copy.copy(e) for e in self.expected], list(self.held), dict(self.ids))

    def expect(self, state: State, team: str, event_type: str, customer: dict[str, Any], write: Exchange,
               required: bool, tickets: tuple[int, int] | None = None) -> list[Violation]:
        """The event a write answered at `write.answered` implies for every registration of `team` that was
        live around it (one whose registration or deletion overlaps the write only may get it)."""
        found: list[Violation] = []
        for hook in state.webhooks.values():
            if hook.team != team or not hook.wants(event_type):
                continue
            if hook.deleted is not None and hook.deleted <= write.sent:
                continue  # deleted before the write: must get nothing (judged on delivery)
            certain = hook.registered <= write.sent and (hook.deleting is None or hook.deleting >= write.answered)
            self.expected.append(Expected(hook.id, event_type, str(customer.get("id")), [view(customer)],
                                          write.answered, write, required and certain and hook.healthy, tickets))
        for delivery, hook in list(self.held):
            judged = self._match(delivery, hook)
            if judged is not None:
                self.held.remove((delivery, hook))
                found += judged
        return found

    def deliver(self, state: State, delivery: Delivery, now: float) -> list[Violation]:
        hook = next((h for h in state.webhooks.values() if h.path == delivery.path), None)
        if hook is None:
            return []  # not one of the run's registrations (a leftover, another tool's)
        found = self._shape(delivery, hook, now)
        payload = delivery.json
        if not isinstance(payload, dict) or customer_of(payload) is None:
            return found
        judged = self._match(delivery, hook)
        if judged is None:
            self.held.append((delivery, hook))
            return found
        return found + judged

    def _shape(self, delivery: Delivery, hook: WebhookRec, now: float) -> list[Violation]:
        found = []
        problem = verify_signature(hook.secret, delivery.headers.get("x-signature"), delivery.body, now)
        if problem:
            found.append(Violation(("WEBHOOK-SIGNATURE",), problem, (delivery,)))
        payload = delivery.json
        missing = [key for key in PAYLOAD_KEYS if not isinstance(payload, dict) or key not in payload]
        customer = customer_of(payload)
        if delivery.method != "POST" or missing or customer is None:
            found.append(Violation(("WEBHOOK-PAYLOAD",), f"a delivery must be a POST of JSON {{id, type, created_at, "
                                   f"team_id, data: {{customer}}}}: {delivery.method}, missing {missing or 'customer'}",
                                   (delivery,)))
            return found
        absent = [name for name, api in WIRE.items() if customer.get(api) is _MISSING]
        if absent:
            found.append(Violation(("WEBHOOK-PAYLOAD",), f"the payload's customer lacks {', '.join(absent)} "
                                   "(snake_case on the wire)", (delivery,)))
        header = delivery.headers.get("x-event-type")
        if header is not None and header != payload.get("type"):
            found.append(Violation(("WEBHOOK-EVENT-TYPE-HEADER",), f"X-Event-Type {header!r} but the payload's "
                                   f"type is {payload.get('type')!r}", (delivery,)))
        if payload.get("team_id") != hook.team:
            found.append(Violation(("WEBHOOK-TEAM-ONLY", "WEBHOOK-PAYLOAD"), f"a delivery to a registration of team "
                                   f"{hook.team} says team_id {payload.get('team_id')!r}", (delivery,)))
        return found

    def _match(self, delivery: Delivery, hook: WebhookRec, final: bool = False) -> list[Violation] | None:
        """Judge a delivery against what the run's writes imply; None when nothing explains it yet (its write's
        answer may not have been judged yet: a delivery can overtake it). `final`: judge it as it is."""
        payload = delivery.json
        event_type, event_id = payload.get("type"), payload.get("id")
        customer = customer_of(payload) or {}
        customer_id = str(customer.get("id"))
        found: list[Violation] = []
        candidates = [e for e in self.expected if e.hook == hook.id and e.type == event_type
                      and e.customer == customer_id]
        if not candidates:
            return None
        fitting = [e for e in candidates if any(not differences(customer, v, e.tickets) for v in e.values)]
        if not fitting and not final:
            return None
        if isinstance(event_id, str) and event_id in self.ids:
            first_type, first_customer, first = self.ids[event_id]
            if (first_type, first_customer) != (event_type, customer_id):
                found.append(Violation(("WEBHOOK-EVENT-IDS",), f"event id {event_id} came with {first_type} about "
                                       f"{first_customer} and now with {event_type} about {customer_id}",
                                       (first, delivery)))
        chosen = next((e for e in fitting if e.event_id == event_id and event_id is not None), None)
        chosen = chosen or next((e for e in fitting if e.delivered is None), None)
        if chosen is None and fitting:
            # every event this delivery fits was delivered already, under other ids: a copy with an id of its own
            # — unless an event of the same kind is still awaited (judged once time has settled it)
            if not final and any(e.delivered is None for e in candidates):
                return None
            if any(e.delivered is None for e in candidates):
                fitting = []
            else:
                chosen = fitting[0]
                if event_id is not None and chosen.event_id not in (None, event_id):
                    found.append(Violation(("WEBHOOK-EVENT-IDS",), f"two deliveries of the one {event_type} of "
                                           f"{customer_id} carry the ids {chosen.event_id} and {event_id}",
                                           (chosen.write, delivery)))
        if chosen is None:
            open_ = next((e for e in candidates if e.delivered is None), candidates[-1])
            diffs = differences(customer, open_.values[0], open_.tickets)
            found.append(Violation(("WEBHOOK-PAYLOAD",), f"the {event_type} payload does not show the customer as "
                                   f"the API answered it: {'; '.join(d for _, d in diffs[:4])}",
                                   (open_.write, delivery)))
            chosen = open_
        if chosen.delivered is None:
            chosen.delivered, chosen.event_id = delivery.received, event_id if isinstance(event_id, str) else None
            twin = next((e for e in self.expected if e.write is chosen.write and e.type == chosen.type
                         and e is not chosen and e.event_id not in (None, chosen.event_id)), None)
            if twin is not None:
                found.append(Violation(("WEBHOOK-EVENT-IDS",), f"one {event_type} of {customer_id} reached two "
                                       f"registrations under two ids ({twin.event_id}, {chosen.event_id})",
                                       (chosen.write, delivery)))
            if isinstance(event_id, str):
                for e in self.expected:
                    if e.event_id == event_id and e.delivered is not None and (e.write.seq, e.type) != (
                            chosen.write.seq, chosen.type):  # one event fanned out to several hooks is one event
                        found.append(Violation(("WEBHOOK-EVENT-IDS",), f"two distinct events ({e.type} and "
                                               f"{chosen.type} of {customer_id}) carry one id {event_id}",
                                               (e.write, chosen.write, delivery)))
                        break
            late = delivery.received - chosen.answered
            if chosen.required and late > MUST_WITHIN:
                found.append(Violation(("WEBHOOK-WITHIN-10S",), f"{event_type} of {customer_id} came {late:.1f} s "
                                       f"after the API answered (at most {MUST_WITHIN:.0f} s)",
                                       (chosen.write, delivery)))
                chosen.reported = True
            elif chosen.required and late > SHOULD_WITHIN:
                found.append(Violation(("WEBHOOK-WITHIN-2S",), f"{event_type} of {customer_id} came {late:.1f} s "
                                       f"after the API answered (should be within {SHOULD_WITHIN:.0f} s)",
                                       (chosen.write, delivery)))
        if isinstance(event_id, str):
            self.ids.setdefault(event_id, (str(event_type), customer_id, delivery))
        return found

    def due(self, state: State, now: float, explain: Any) -> list[Violation]:
        """Required events whose 10 s have passed undelivered; held deliveries that no write explains.
        `explain(delivery, hook)` names the rules a delivery nobody expected breaks (from the model)."""
        found = []
        for e in self.expected:
            if e.required and e.delivered is None and not e.reported and now - e.answered > MUST_WITHIN:
                e.reported = True
                found.append(Violation(("WEBHOOK-EVENTS", "WEBHOOK-WITHIN-10S"), f"no {e.type} of customer "
                                       f"{e.customer} reached registration {e.hook} within {MUST_WITHIN:.0f} s of "
                                       "the API's answer", (e.write,)))
        for delivery, hook in list(self.held):
            if now - delivery.received < HOLD:
                continue
            self.held.remove((delivery, hook))
            judged = self._match(delivery, hook, final=True)
            found += judged if judged is not None else explain(delivery, hook)
        return found

    def next_deadline(self) -> float | None:
        """When the next required event is overdue (wall clock), or the next held delivery is judged."""
        times = [e.answered + MUST_WITHIN for e in self.expected if e.required and e.delivered is None
                 and not e.reported]
        times += [d.received + HOLD for d, _ in self.held]
        return min(times) if times else None
