"""What the reference puts on the wire: JSON responses, the success envelope, timestamps, the customer,
ticket and webhook objects, delete answers and webhook event payloads — each as the mode spells them."""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from starlette.responses import Response

from .faults import FaultSet
from .modes import Mode
from .storage import Customer, Ticket, Webhook

API_VERSION = "2026-03-01"


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class CharCountedJsonResponse(JsonResponse):
    """The content-length-counts-characters fault: Content-Length set by hand from the serialised text."""

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        super().init_headers(headers)
        characters = str(len(bytes(self.body).decode())).encode()  # the bug: characters, not bytes
        self.raw_headers = [(name, characters if name == b"content-length" else value)
                            for name, value in self.raw_headers]


WORD_BREAK = re.compile(r"(?<=[^_-])[_-]+([^_-])")


def camelized(value: Any) -> Any:
    """Keys of `value` (recursively) as pyhumps' camelize spells them: `account_id` → `accountId`."""
    if not isinstance(value, dict):
        return value
    return {WORD_BREAK.sub(lambda found: found.group(1).upper(), key): camelized(item) for key, item in value.items()}


def now_us() -> int:
    return time.time_ns() // 1000


def request_id() -> str:
    return "req_" + secrets.token_hex(12)


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _decamelized(value: Any) -> Any:
    """Every object key of a JSON tree in snake_case, the way a humps-style `decamelize` does it."""
    if isinstance(value, dict):
        return {_CAMEL_HUMP.sub(r"_\1", key).lower(): _decamelized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decamelized(item) for item in value]
    return value


class Renderer:
    """The shapes of one server (its mode and faults)."""

    def __init__(self, mode: Mode, faults: FaultSet) -> None:
        self.mode = mode
        self.faults = faults
        self.extras = mode.get("extra-fields")  # "none" | "some" | "everywhere"
        self.timestamp = lru_cache(maxsize=65_536)(self._timestamp)

    # ------------------------------------------------------------------ primitives

    def _timestamp(self, us: int) -> str:
        seconds, micros = divmod(us, 1_000_000)
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
        whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if self.faults.on("timestamps-naive"):
            return f"{whole}.{micros // 1000:03d}"
        if self.mode.takes("timestamps", "micros-offset"):
            return moment.isoformat(timespec="microseconds")
        if self.mode.takes("timestamps", "seconds-z"):
            return f"{whole}Z"
        if self.faults.on("timestamp-millis-unpadded"):  # the bug: `${ms}` without padStart(3, "0")
            return f"{whole}.{micros // 1000}Z"
        return f"{whole}.{micros // 1000:03d}Z"

    def meta(self) -> dict[str, Any] | None:
        """The `meta` member an answer carries beside its contract fields, if any."""
        if self.extras == "some":
            return {"requestId": request_id()}
        if self.extras == "everywhere":
            return {"requestId": request_id(), "timestamp": self.timestamp(now_us())}
        return None

    def ok(self, data: Any, status: int = 200, pagination: dict[str, Any] | None = None,
           media_type: str | None = None) -> JsonResponse:
        body: dict[str, Any] = {"success": True}
        if pagination is not None and self.extras == "everywhere":
            body["object"] = "list"
        if pagination is None or data != [] or not self.faults.on("empty-list-data-omitted"):
            body["data"] = data  # (the fault: Go's `json:"data,omitempty"` drops an empty slice)
        meta = self.meta() or {}
        if pagination is not None:
            if self.faults.on("pagination-under-meta"):
                meta["pagination"] = pagination
            else:
                body["pagination"] = pagination
        if meta:
            body["meta"] = meta
        response_class = CharCountedJsonResponse if self.faults.on("content-length-counts-characters") else JsonResponse
        return response_class(body, status_code=status, media_type=media_type)

    def pagination(self, page: int, page_size: int, total: int) -> dict[str, Any]:
        more = page * page_size <= total if self.faults.on("hasmore-off-by-one") else page * page_size < total
        pagination: dict[str, Any] = {"total": total, "page": page, "pageSize": page_size, "hasMore": more}
        if self.extras == "everywhere":
            pagination["totalPages"] = -(-total // page_size) if page_size else 0  # 0: pagesize-zero-unlimited
        return pagination

    def _wrap(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.extras == "none":
            return data
        wrapped = {"object": kind, **data, "metadata": {}}
        if self.extras == "everywhere":
            wrapped["livemode"] = False
        return wrapped

    # --------------------------------------------------------------------- objects

    def customer(self, row: Customer) -> dict[str, Any]:
        return self._wrap("customer", {
            "id": row.id,
            "name": row.name,
            "email": row.email,
            "status": row.status,
            "sentiment": row.sentiment,
            "tags": list(row.tags),
            "notes": row.notes,
            "customFields": self._custom_fields(row.custom_fields),
            "ticketCount": row.ticket_count,
            "createdAt": self.timestamp(row.created_us),
            "updatedAt": self.timestamp(row.updated_us),
        })

    def _custom_fields(self, values: dict[str, Any]) -> dict[str, Any]:
        if isinstance(values, list) and (self.faults.on("customfields-array-accepted")
                                         or self.faults.on("customfields-emptied-as-array")):
            return list(values)  # type: ignore[return-value] - what those faults stored, encoded as it is
        if self.faults.on("customfields-keys-camelized"):  # the serializer camelizes every key it meets
            return camelized(values)
        return dict(values)

    def ticket(self, row: Ticket) -> dict[str, Any]:
        return self._wrap("ticket", {
            "id": row.id,
            "title": row.title,
            "customerId": row.customer_id,
            "priority": row.priority,
            "status": row.status,
            "createdAt": self.timestamp(row.created_us),
            "updatedAt": self.timestamp(row.updated_us),
        })

    def webhook(self, row: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"id": row.id, "url": row.url, "events": list(row.events)}
        if with_secret:
            data["secret"] = row.secret
        # createdAt lets the suite's sweep find a killed run's registrations by age
        data.update({"isActive": row.is_active, "createdAt": self.timestamp(row.created_us)})
        return self._wrap("webhook_endpoint", data)

    def deleted(self, choice: str, object_id: str, deleted_object: dict[str, Any] | None = None) -> Response:
        """The answer to a DELETE as the choice (`delete-answer`, `ticket-delete-answer`) spells it."""
        answer = self.mode.get(choice)
        if answer == "204":
            return Response(status_code=204)
        if answer == "object" and deleted_object is not None:
            return self.ok(deleted_object)
        if choice == "ticket-delete-answer" and self.faults.on("delete-answer-untyped"):
            typed = self.ok({"id": object_id, "deleted": True})  # the bug: Starlette's base Response, no media type
            return Response(bytes(typed.body), status_code=typed.status_code)
        return self.ok({"id": object_id, "deleted": True})

    # ---------------------------------------------------------------------- events

    def _event_customer(self, wire: dict[str, Any]) -> dict[str, Any]:
        """The payload's customer as the faults' event serializers spell it."""
        if self.faults.on("webhook-customfields-stringified"):  # a map[string]string on the way
            wire["custom_fields"] = {key: value if isinstance(value, str) else json.dumps(value)
                                     for key, value in wire["custom_fields"].items()}
        if self.faults.on("webhook-notes-null-as-empty") and wire["notes"] is None:
            wire["notes"] = ""  # a non-nullable string in the event schema
        if self.faults.on("webhook-payload-strips-whitespace"):  # the event model's str_strip_whitespace=True
            wire["name"] = wire["name"].strip()
            wire["tags"] = [tag.strip() for tag in wire["tags"]]
            if isinstance(wire["notes"], str):
                wire["notes"] = wire["notes"].strip()
        if self.faults.on("webhook-omits-empty"):  # Go's omitempty
            wire = {key: value for key, value in wire.items() if value not in (None, "", [], {})}
        return wire

    def event(self, team_id: str, event_type: str, customer: dict[str, Any]) -> dict[str, Any]:
        """A webhook event about `customer` (as the API returned it), stamped now."""
        if self.faults.on("webhook-camelcase-payload"):
            wire = {k: v for k, v in customer.items() if k not in ("object", "metadata", "livemode")}
        else:
            if self.faults.on("webhook-decamelizes-custom-fields"):  # the bug: every key of the tree converted
                wire = _decamelized({k: v for k, v in customer.items() if k not in ("object", "metadata", "livemode")})
            else:
                wire = {
                    "id": customer["id"], "name": customer["name"], "email": customer["email"],
                    "status": customer["status"], "sentiment": customer["sentiment"], "tags": customer["tags"],
                    "notes": customer["notes"], "custom_fields": customer["customFields"],
                    "ticket_count": customer["ticketCount"], "created_at": customer["createdAt"],
                    "updated_at": customer["updatedAt"],
                }
            wire = self._event_customer(wire)
            if self.extras == "everywhere":
                wire = {"object": "customer", **wire, "metadata": {}}
        event_id = "evt_" + (customer["id"].replace("-", "") if self.faults.on("webhook-event-id-per-customer")
                             else uuid.uuid4().hex)
        payload: dict[str, Any] = {"id": event_id, "type": event_type,
                                   "created_at": self.timestamp(now_us()), "team_id": team_id,
                                   "data": {"customer": wire}}
        if self.extras == "everywhere":
            payload = {"object": "event", "api_version": API_VERSION, "livemode": False, **payload}
        return payload
