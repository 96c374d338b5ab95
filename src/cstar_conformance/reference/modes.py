"""Legal variation: every choice the contract leaves to a server, the alternatives the reference can
take for it, and the named modes (``clean``, ``alt``, ``edge``) that map each choice to one of them.

The suite must be green with zero findings on every mode: together the modes take every alternative
of every choice (a unit test checks it), except an alternative marked ``below_should`` — legal, but
short of a SHOULD — which no mode takes; it stays playable with ``--may CHOICE=ALTERNATIVE``. The
server's code asks ``mode.takes("choice", "alternative")`` where the choice shows; unknown names raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cstar_conformance.rules import BY_ID


@dataclass(frozen=True)
class Alternative:
    id: str
    label: str  # how the server behaves, for the matrix
    below_should: bool = False  # legal but short of a SHOULD: no zero-finding mode may take it


@dataclass(frozen=True)
class Choice:
    id: str
    rules: tuple[str, ...]
    alternatives: tuple[Alternative, ...]
    description: str

    def alternative(self, alternative_id: str) -> Alternative:
        for alternative in self.alternatives:
            if alternative.id == alternative_id:
                return alternative
        raise UnknownChoiceError(f"choice {self.id!r} has no alternative {alternative_id!r}; "
                                 f"valid: {', '.join(a.id for a in self.alternatives)}")


class UnknownChoiceError(ValueError):
    """A choice or alternative name that is not in the registry."""


def _c(choice_id: str, rules: str, description: str, *alternatives: Alternative) -> Choice:
    return Choice(choice_id, tuple(r.strip() for r in rules.split(",") if r.strip()), alternatives, description)


A = Alternative
CHOICES: tuple[Choice, ...] = (
    # §1 transport, auth, envelopes
    _c("cross-team-status", "AUTH-CROSS-TEAM", "a valid key on another team's path",
       A("403", "403"), A("404", "404")),
    _c("unknown-method", "UNKNOWN-METHOD", "a method the contract does not define on a known path",
       A("405", "405 with Allow"), A("404", "404")),
    _c("extra-fields", "EXTRA-FIELDS", "fields beyond the contract in answers and deliveries",
       A("none", "none"),
       A("some", "`object`, `metadata` on customers, `meta.requestId`, `error.type`/`param`"),
       A("everywhere", "everywhere: also `meta.timestamp`, `object: list`, `pagination.totalPages`, "
                       "`error.doc_url`/`request_id`, extra event and payload fields")),
    _c("validation-status", "CREATE-VALIDATION,PATCH-INVALID-NOCHANGE,LIST-BAD-PARAMS-4XX,FILTER-INVALID-4XX",
       "the status of a rejected body or parameter",
       A("400", "400"), A("422", "422"), A("mixed", "400 for unparseable JSON, 422 for schema errors")),
    _c("retry-after", "RATE-LIMIT-RETRY-AFTER", "how a 429 says when to come back (seen only when rate-limited)",
       A("both", "`Retry-After` and `error.retryAfter`"), A("header", "`Retry-After` only"),
       A("body", "`error.retryAfter` only")),
    _c("options-answer", "OPTIONS-SAFE", "an `OPTIONS` request (a CORS preflight) on any path",
       A("405", "405 with Allow (after authentication)"), A("cors", "204 with CORS headers, before authentication"),
       A("404", "404")),
    _c("connection", "", "HTTP connection handling of the deployment",
       A("keep-alive", "keep-alive"), A("close", "`Connection: close` after every response")),
    _c("compression", "", "response compression when the client sends `Accept-Encoding: gzip`",
       A("none", "none"), A("gzip", "gzip (bodies of 16 bytes and more)")),
    # §2 customer object
    _c("notes-default", "CREATE-DEFAULTS", "`notes` of a customer created without it",
       A("null", "null"), A("empty", "\"\"")),
    _c("customfields-nested", "CUSTOMFIELDS-NESTED", "arrays and nested objects as `customFields` values",
       A("accepted", "accepted and round-tripped"), A("rejected", "rejected with 400/422")),
    _c("tag-duplicates", "TAGS-DUPLICATES", "`tags` that repeat a value",
       A("kept", "kept as sent"), A("collapsed", "collapsed to the first occurrence of each value")),
    _c("timestamps", "TIMESTAMP-FORMAT", "the spelling of `createdAt`/`updatedAt`",
       A("millis-z", "milliseconds + `Z`"), A("micros-offset", "microseconds + `+00:00`"),
       A("seconds-z", "whole seconds + `Z` (one-second resolution)")),
    # §3 list
    _c("pagesize-over-100", "LIST-PAGESIZE-MAX", "`pageSize` above 100",
       A("reject", "rejected 400/422"), A("clamp", "clamped to 100")),
    _c("list-order", "LIST-ORDER", "the order of list pages",
       A("oldest-first", "oldest first"), A("newest-first", "newest first"),
       A("by-name", "by name (creation breaks ties)")),
    _c("invalid-filter", "FILTER-INVALID-4XX,FILTER-INVALID-NOT-UNFILTERED", "an unknown `status`/`sentiment` value",
       A("reject", "400/422"), A("empty", "an empty result")),
    _c("empty-filter", "FILTER-EMPTY-VALUE", "an empty `status=` or `sentiment=`",
       A("no-filter", "no filter"), A("invalid", "as an invalid value (the `invalid-filter` choice)")),
    _c("tag-filter", "LIST-TAG-FILTER", "the `tag` list parameter",
       A("supported", "supported (exact tag)"), A("ignored", "ignored")),
    # §3 create
    _c("unknown-body-fields", "CREATE-UNKNOWN-FIELDS", "unknown (and read-only) fields in a request body",
       A("ignored", "ignored"), A("rejected", "rejected 400/422")),
    _c("null-optional", "CREATE-NULL-OPTIONAL", "`null` for an optional body field",
       A("notes-only", "accepted for `notes`, rejected for the others"),
       A("accepted", "accepted as empty for every optional field"),
       A("rejected", "rejected for every optional field")),
    _c("whitespace-name", "CREATE-LONG-STRINGS", "a whitespace-only `name`",
       A("accepted", "accepted"), A("rejected", "rejected 400/422")),
    _c("long-strings", "CREATE-LONG-STRINGS", "strings longer than 255 characters (up to 10,000)",
       A("accepted", "accepted"), A("rejected", "rejected 400/422")),
    # §3 get, update, delete
    _c("malformed-id", "GET-MALFORMED-ID", "a customer id that is not a UUID",
       A("404", "404"), A("400", "400")),
    _c("customfields-patch", "PATCH-CUSTOMFIELDS-MERGE", "`customFields` in a PATCH",
       A("merge", "merged per key, null removes (RFC 7396)"),
       A("replace", "the whole object replaced", below_should=True)),
    _c("patch-noop", "PATCH-NOOP-QUIET", "a PATCH that changes nothing",
       A("quiet", "leaves `updatedAt`, sends no event"), A("touch", "moves `updatedAt`, sends `customer.updated`")),
    _c("delete-answer", "DELETE-STATUS", "the answer to a customer DELETE",
       A("id-deleted", "200 + `{id, deleted}`"), A("204", "204"), A("object", "200 + the deleted customer")),
    # §4 tickets
    _c("ticket-delete-answer", "", "the answer to a ticket (and webhook registration) DELETE",
       A("200", "200 + `{id, deleted}`"), A("204", "204")),
    _c("ticket-bad-customer", "TICKET-BAD-CUSTOMER", "a ticket for a customer that is not the team's",
       A("404", "404"), A("422", "422"), A("400", "400")),
    _c("ticketcount-on-delete", "TICKET-COUNT-ON-DELETE", "`ticketCount` after a ticket is deleted",
       A("kept", "kept (tickets ever opened)"), A("lowered", "lowered (live count)")),
    # §5 webhooks
    _c("customer-deleted-event", "WEBHOOK-OPTIONAL-EVENTS", "`customer.deleted` after a delete",
       A("not-sent", "not sent"), A("sent", "sent")),
    _c("webhook-retries", "WEBHOOK-OPTIONAL-EVENTS", "a failed delivery",
       A("retried", "retried twice, 0.5 s and 1 s apart"), A("not-retried", "not retried")),
    _c("webhook-duplicates", "WEBHOOK-AT-LEAST-ONCE", "how often an event is delivered",
       A("once", "once"), A("twice", "twice, with the same event id")),
    _c("webhook-headers", "WEBHOOK-HEADERS", "`X-Event-ID`, `X-Event-Type`, `X-Delivery-Attempt`",
       A("sent", "sent"), A("none", "none")),
)
del A

BY_CHOICE: dict[str, Choice] = {choice.id: choice for choice in CHOICES}

MODES: dict[str, dict[str, str]] = {
    "clean": {
        "cross-team-status": "403", "unknown-method": "405", "extra-fields": "none", "validation-status": "400",
        "retry-after": "both", "options-answer": "405",
        "connection": "keep-alive", "compression": "none", "notes-default": "null",
        "customfields-nested": "accepted", "tag-duplicates": "kept", "timestamps": "millis-z",
        "pagesize-over-100": "reject", "empty-filter": "no-filter",
        "list-order": "oldest-first", "invalid-filter": "reject", "tag-filter": "supported",
        "unknown-body-fields": "ignored", "null-optional": "notes-only", "whitespace-name": "accepted",
        "long-strings": "accepted", "malformed-id": "404", "customfields-patch": "merge", "patch-noop": "quiet",
        "delete-answer": "id-deleted", "ticket-delete-answer": "200", "ticket-bad-customer": "404",
        "ticketcount-on-delete": "kept", "customer-deleted-event": "not-sent", "webhook-retries": "retried",
        "webhook-duplicates": "once", "webhook-headers": "sent",
    },
    "alt": {
        "cross-team-status": "404", "unknown-method": "404", "extra-fields": "some", "validation-status": "422",
        "retry-after": "header", "options-answer": "cors",
        "connection": "close", "compression": "none", "notes-default": "empty",
        "customfields-nested": "accepted", "tag-duplicates": "collapsed", "timestamps": "micros-offset",
        "pagesize-over-100": "clamp", "empty-filter": "invalid",
        "list-order": "newest-first", "invalid-filter": "empty", "tag-filter": "supported",
        "unknown-body-fields": "rejected", "null-optional": "accepted", "whitespace-name": "rejected",
        "long-strings": "rejected", "malformed-id": "400", "customfields-patch": "merge", "patch-noop": "quiet",
        "delete-answer": "204", "ticket-delete-answer": "204", "ticket-bad-customer": "422",
        "ticketcount-on-delete": "lowered", "customer-deleted-event": "sent", "webhook-retries": "retried",
        "webhook-duplicates": "once", "webhook-headers": "sent",
    },
    "edge": {
        "cross-team-status": "403", "unknown-method": "405", "extra-fields": "everywhere",
        "validation-status": "mixed", "retry-after": "body", "options-answer": "404",
        "connection": "keep-alive", "compression": "gzip",
        "notes-default": "null", "customfields-nested": "rejected", "tag-duplicates": "collapsed",
        "timestamps": "seconds-z", "pagesize-over-100": "clamp", "empty-filter": "invalid",
        "list-order": "by-name", "invalid-filter": "reject",
        "tag-filter": "ignored", "unknown-body-fields": "ignored", "null-optional": "rejected",
        "whitespace-name": "rejected", "long-strings": "accepted", "malformed-id": "404",
        "customfields-patch": "merge", "patch-noop": "touch", "delete-answer": "object",
        "ticket-delete-answer": "200", "ticket-bad-customer": "400", "ticketcount-on-delete": "kept",
        "customer-deleted-event": "sent", "webhook-retries": "not-retried", "webhook-duplicates": "twice",
        "webhook-headers": "none",
    },
}


@dataclass(frozen=True)
class Mode:
    """A named mode with single choices overridden: what one server instance does."""

    name: str
    overrides: Mapping[str, str] = field(default_factory=dict)

    def get(self, choice_id: str) -> str:
        if choice_id not in BY_CHOICE:  # a typo in the server code must not silently take a default
            raise UnknownChoiceError(f"unknown choice {choice_id!r}")
        return self.overrides.get(choice_id, MODES[self.name][choice_id])

    def takes(self, choice_id: str, alternative_id: str) -> bool:
        current = self.get(choice_id)
        BY_CHOICE[choice_id].alternative(alternative_id)  # raises on an alternative the choice does not have
        return current == alternative_id

    def choices(self) -> dict[str, str]:
        return {choice.id: self.get(choice.id) for choice in CHOICES}

    def describe(self) -> str:
        """`edge` or `clean (customfields-patch=replace)` — what the banner and the READY line say."""
        if not self.overrides:
            return self.name
        return f"{self.name} ({', '.join(f'{k}={v}' for k, v in sorted(self.overrides.items()))})"


def parse_overrides(values: Iterable[str]) -> dict[str, str]:
    """``["customfields-patch=replace", ...]`` → a checked mapping; UnknownChoiceError names the valid ones."""
    overrides: dict[str, str] = {}
    for value in values:
        choice_id, sep, alternative_id = value.partition("=")
        choice_id, alternative_id = choice_id.strip(), alternative_id.strip()
        if not sep or choice_id not in BY_CHOICE:
            raise UnknownChoiceError(f"--may {value!r}: expected CHOICE=ALTERNATIVE with a choice among "
                                     f"{', '.join(BY_CHOICE)}")
        BY_CHOICE[choice_id].alternative(alternative_id)
        overrides[choice_id] = alternative_id
    return overrides


def resolve(name: str = "clean", overrides: Iterable[str] | Mapping[str, str] = ()) -> Mode:
    if name not in MODES:
        raise UnknownChoiceError(f"unknown mode {name!r}; valid: {', '.join(MODES)}")
    checked = parse_overrides(f"{k}={v}" for k, v in overrides.items()) if isinstance(overrides, Mapping) \
        else parse_overrides(overrides)
    return Mode(name, checked)


@dataclass(frozen=True)
class MatrixLine:
    rules: tuple[str, ...]
    text: str


def matrix_lines() -> list[MatrixLine]:
    """One markdown line per choice: each alternative and the modes that take it."""
    lines = []
    for choice in CHOICES:
        parts = []
        for alternative in choice.alternatives:
            modes = [name for name, mapping in MODES.items() if mapping[choice.id] == alternative.id]
            if modes:
                taken = ", ".join(modes)
            else:
                taken = f"`--may {choice.id}={alternative.id}` only" + (
                    " (legal, below the SHOULD)" if alternative.below_should else "")
            parts.append(f"{alternative.label} → {taken}")
        lines.append(MatrixLine(choice.rules, f"`{choice.id}`: " + "; ".join(parts)))
    return lines


def _check_registry() -> None:
    if len(BY_CHOICE) != len(CHOICES):
        raise RuntimeError("duplicate choice id in CHOICES")
    for choice in CHOICES:
        unknown = [rule_id for rule_id in choice.rules if rule_id not in BY_ID]
        if unknown:
            raise RuntimeError(f"choice {choice.id!r} names unknown rule ids {unknown}")
    for name, mapping in MODES.items():
        if set(mapping) != set(BY_CHOICE):
            raise RuntimeError(f"mode {name!r} must map exactly every choice: "
                               f"{sorted(set(mapping) ^ set(BY_CHOICE))}")
        for choice_id, alternative_id in mapping.items():
            if BY_CHOICE[choice_id].alternative(alternative_id).below_should:
                raise RuntimeError(f"mode {name!r} takes {choice_id}={alternative_id}, which is below a SHOULD")


_check_registry()
