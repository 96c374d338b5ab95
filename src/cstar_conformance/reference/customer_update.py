"""PATCH of a customer: only the fields present change, customFields merge (RFC 7396), the address stays
unique, and a rejected PATCH changes nothing and sends nothing — where the faults do otherwise, that is
marked. The body is validated here (not by FastAPI) because several of those faults act around it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from .auth import Caller
from .context import Reference, Unit
from .delivery import Event
from .errors import ApiError, not_found
from .render import now_us
from .storage import Customer, Ticket
from .writes import (
    canonical_email_taken,
    defaults,
    duplicate_email,
    email_key,
    find_customer,
    merge_patch,
    parse_customer_id,
    stored_custom_fields,
    stored_notes,
    stored_tags,
    stored_text,
)

EDITABLE = ("name", "email", "status", "sentiment", "tags", "notes", "customFields")
JSON_COLUMNS = ("tags", "customFields")
HOST_ZONE = timezone(timedelta(hours=-5), "EST")  # the patch-updatedat-local-time fault's host clock
SNAPSHOT_WINDOW_SECONDS = 0.25  # patch-lost-update: from the snapshot read to the write
SCALAR_FIELDS = ("name", "email", "status", "sentiment", "notes")  # not the JSON columns (tags, customFields)


def update_customer(ref: Reference, unit: Unit, caller: Caller, raw_id: str, body: Any) -> Response:
    customer_id = parse_customer_id(ref, raw_id)
    faults, session = ref.faults, unit.session
    team = caller.team_id if caller.team_checked else None  # unchecked: the row is found by id alone
    body = _body_as_read(ref, body)
    try:
        patch = ref.models.customer_patch.model_validate(body)
    except ValidationError:
        if faults.on("rejected-patch-emits-updated"):
            _announce_unchanged(ref, session, team, customer_id)
        if faults.on("patch-invalid-partial-write"):
            _write_valid_prefix(ref, session, team, customer_id, body)
        raise
    fields = patch.model_fields_set
    if not fields and faults.on("patch-empty-400"):
        raise ApiError(400, "parameter_missing", "Nothing to update")
    snapshot = _snapshot(ref, team, customer_id) if faults.on("patch-lost-update") else None
    row = _by_primary_key(session, team, customer_id) if faults.on("soft-delete-patch-by-pk") else (
        find_customer(session, team, customer_id))
    if row is None:
        if faults.on("patch-unknown-200"):  # the UPDATE matched no row and nobody looked
            return ref.render.ok({"id": customer_id} | patch.model_dump(mode="json", include=fields))
        raise not_found("customer", "customerId")
    before = ref.render.customer(row)
    current = _state(row if snapshot is None else snapshot)
    new = _patched(ref, current, patch, fields)
    _check_email(ref, session, row, current, new, fields)
    read_only = _read_only_columns(ref, patch, fields)
    changed = _changed(ref, current, new) or bool(read_only)
    touched = changed or ref.mode.takes("patch-noop", "touch")
    if not caller.write_checked and (touched or new != current):  # pk-noop-patch-allowed: refused only now
        raise ref.auth.read_only()
    early = faults.on("patch-event-before-flush")  # the bug: published by a before_flush listener
    if touched or new != current:  # the same, but where a fault's change detector misses a change
        _write(ref, row, new, read_only, move=touched)
        if early and touched:
            event = ref.render.event(caller.team_id, "customer.updated", ref.render.customer(row))
            ref.dispatcher.publish([Event(caller.team_id, "customer.updated", event)])
        try:
            session.flush()
        except IntegrityError:
            raise duplicate_email(ref) from None
        if touched and faults.on("patch-answer-stale-updatedat"):
            _touch_by_trigger(session, row)
    customer = ref.render.customer(row)
    if not caller.team_checked:
        session.commit()  # the bug: the write is committed before the team is checked
        raise ref.auth.cross_team()
    ref.read_cache.pop((row.team_id, row.id), None)
    announce = touched and not early and not faults.on("webhook-no-update-event")
    if faults.on("webhook-case-change-no-event"):  # the bug: the change hook diffs the lower-case copies
        announce = announce and (_folded(new) != _folded(current) or bool(read_only))
    if faults.on("webhook-json-change-no-event"):  # the bug: the change hook diffs the scalar columns only
        announce = announce and (any(new[key] != current[key] for key in SCALAR_FIELDS) or bool(read_only))
    if announce:
        announced = before if faults.on("webhook-stale-payload") else customer
        if faults.on("webhook-ticket-count-live"):  # the bug: the enricher counts the live tickets
            live = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.customer_id == row.id))
            announced = announced | {"ticketCount": live or 0}
        unit.publish(caller.team_id, "customer.updated", announced)
    return ref.render.ok(customer)


def _body_as_read(ref: Reference, body: Any) -> Any:
    """The body as the handler sees it: FastAPI hands over the raw bytes of a body that was not sent as JSON,
    and JSON null as None — and the faults' body readers get those wrong."""
    faults = ref.faults
    if faults.on("patch-non-json-as-empty") and isinstance(body, bytes | bytearray):
        return {}  # the bug: only application/json is parsed, anything else is an empty object
    if faults.on("patch-null-body-as-empty") and body is None:
        return body or {}
    if faults.on("patch-scalar-body-500") and not isinstance(body, dict | bytes | bytearray | None):
        sorted(body.keys())  # the bug: an audit hook lists the keys before validation (AttributeError)
    return body


def _snapshot(ref: Reference, team: str | None, customer_id: str) -> Customer | None:
    """The patch-lost-update fault: the customer as read outside the write transaction, some time before it."""
    with ref.db.reader() as session:
        row = find_customer(session, team, customer_id)
    time.sleep(SNAPSHOT_WINDOW_SECONDS)  # validation and hooks run between the read and the write
    return row


def _changed(ref: Reference, current: dict[str, Any], new: dict[str, Any]) -> bool:
    if ref.faults.on("patch-json-change-undetected"):  # the row's version hash predates the JSON columns
        return any(new[key] != current[key] for key in EDITABLE if key not in JSON_COLUMNS)
    return new != current


def _folded(state: dict[str, Any]) -> dict[str, Any]:
    """The webhook-case-change-no-event fault: the state as the indexed columns hold it (name_lower, email_lower)."""
    return state | {"name": state["name"].lower(), "email": state["email"].lower()}


def _by_primary_key(session: Session, team: str | None, customer_id: str) -> Customer | None:
    """The soft-delete-patch-by-pk fault: the row loaded by key, which the soft-delete scope does not reach."""
    query = select(Customer).where(Customer.id == customer_id)
    if team is not None:
        query = query.where(Customer.team_id == team)
    return session.scalars(query).first()


def _state(row: Customer) -> dict[str, Any]:
    custom_fields = row.custom_fields  # a JSON array only where a fault stored one
    return {"name": row.name, "email": row.email, "status": row.status, "sentiment": row.sentiment,
            "tags": list(row.tags), "notes": row.notes,
            "customFields": dict(custom_fields) if isinstance(custom_fields, dict) else list(custom_fields)}


def _patched(ref: Reference, current: dict[str, Any], patch: BaseModel, fields: set[str]) -> dict[str, Any]:
    """The editable fields after the PATCH (null, where the mode accepts it, means "empty")."""
    faults = ref.faults
    new = dict(current)
    if faults.on("patch-rebuilds-from-defaults"):
        new = defaults(ref) | {"name": current["name"], "email": current["email"]}
    for key in EDITABLE:
        if key not in fields or (key == "status" and faults.on("patch-drops-status")):
            continue  # the status fault: an update DTO without the field
        value = getattr(patch, key)
        if value is None and faults.on("patch-null-ignored"):
            continue  # the bug: exclude_none drops an explicit null
        if key == "customFields":
            new[key] = _patched_custom_fields(ref, new[key], value)
        elif value is None:
            new[key] = defaults(ref)[key]
        elif key == "tags" and faults.on("patch-tags-append"):
            new[key] = current["tags"] + value
        elif key == "tags" and faults.on("patch-tags-sync-reorders"):  # a join table synced by diff
            new[key] = [tag for tag in current["tags"] if tag in value] + [
                tag for tag in value if tag not in current["tags"]]
        else:
            new[key] = value
    if "customFields" not in fields and faults.on("patch-customfields-replace-on-omit"):
        new["customFields"] = {}
    if faults.on("patch-email-case-dropped") and new["email"].lower() == current["email"].lower():
        new["email"] = current["email"]  # the bug: compared case-insensitively, "no change"
    return new


def _patched_custom_fields(ref: Reference, current: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    faults = ref.faults
    merged = _merged_custom_fields(ref, current, patch)
    if faults.on("patch-customfields-falsy-dropped") and isinstance(merged, dict):  # lodash _.pickBy(merged)
        merged = {key: value for key, value in merged.items() if _truthy_in_javascript(value)}
    if faults.on("customfields-emptied-as-array") and merged == {}:
        return []  # type: ignore[return-value] - PHP: json_encode of an empty array is []
    return merged


def _merged_custom_fields(ref: Reference, current: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    if patch is None:
        return {}
    if not isinstance(patch, dict):
        return patch  # an array: only the customfields-array-accepted fault lets one through
    if ref.mode.takes("customfields-patch", "replace"):
        return {key: value for key, value in patch.items() if value is not None}
    if ref.faults.on("patch-customfields-null-stored"):
        return current | patch
    if ref.faults.on("patch-customfields-dotted-path"):
        return _set_by_paths(current, patch)
    return merge_patch(current, patch)


def _truthy_in_javascript(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    return not (isinstance(value, int | float) and not isinstance(value, bool) and value == 0)


def _set_by_paths(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The patch-customfields-dotted-path fault: each key a MongoDB `$set` (null: `$unset`) of
    `customFields.<key>`, where a dot separates the levels of a path."""
    result = dict(current)
    for key, value in patch.items():
        *parents, last = key.split(".")
        node = result
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict) and value is None:
                break  # $unset of a path that is not there: nothing to do
            node[part] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        else:
            if value is None:
                node.pop(last, None)
            else:
                node[last] = value
    return result


def _check_email(ref: Reference, session: Session, row: Customer, current: dict[str, Any], new: dict[str, Any],
                 fields: set[str]) -> None:
    faults = ref.faults
    own_in_other_case = faults.on("patch-own-email-conflict") and "email" in fields
    if new["email"].lower() == current["email"].lower() and not own_in_other_case:
        return
    if faults.on("patch-email-conflict-unchecked") or faults.on("patch-event-before-flush"):
        return  # (the second: conflicts are left to the unique index, an IntegrityError at flush)
    if canonical_email_taken(ref, session, row.team_id, new["email"], own_id=row.id):
        raise duplicate_email(ref)
    query = select(Customer.id).where(Customer.deleted.is_(False), Customer.email_lower == email_key(ref, new["email"]))
    if not faults.on("patch-email-check-all-teams"):  # the bug: the pre-check forgot the tenant
        query = query.where(Customer.team_id == row.team_id)
    if not faults.on("patch-own-email-conflict"):
        query = query.where(Customer.id != row.id)
    if session.scalar(query.limit(1)) is None:
        return
    if faults.on("conflict-patch-partial-write"):  # the bug: each field was its own autocommitted UPDATE
        _write(ref, row, new | {"email": current["email"]}, {})
        session.commit()
    raise duplicate_email(ref)


def _read_only_columns(ref: Reference, patch: BaseModel, fields: set[str]) -> dict[str, int]:
    """Nothing — unless the update model was generated from the table (the fault exposes two columns)."""
    columns: dict[str, int] = {}
    if not ref.faults.on("patch-resets-ticketcount"):
        return columns
    if "ticketCount" in fields and getattr(patch, "ticketCount", None) is not None:
        columns["ticket_count"] = patch.ticketCount  # type: ignore[attr-defined]
    created = getattr(patch, "createdAt", None)
    if "createdAt" in fields and isinstance(created, str):
        try:
            columns["created_us"] = int(datetime.fromisoformat(created).timestamp() * 1_000_000)
        except (ValueError, OverflowError):
            pass
    return columns


def _write(ref: Reference, row: Customer, new: dict[str, Any], read_only: dict[str, int], move: bool = True) -> None:
    faults = ref.faults
    name = stored_text(ref, new["name"])
    if faults.on("name-truncated-100"):
        name = name[:100]
    email = new["email"].lower() if faults.on("email-lowercased") else new["email"]
    row.name, row.name_lower, row.email = name, name.lower(), email
    if not faults.on("patch-email-conflict-unchecked"):  # the bug: the indexed lower-case copy goes stale
        row.email_lower = email_key(ref, email)
    row.status, row.sentiment = new["status"], new["sentiment"]
    row.tags = stored_tags(ref, new["tags"])
    row.notes = stored_notes(ref, new["notes"])
    custom_fields = stored_custom_fields(ref, new["customFields"])
    if faults.on("patch-customfields-mutated-in-place"):  # a plain JSON column: no change event, no UPDATE
        row.custom_fields.clear()
        row.custom_fields.update(custom_fields)
    else:
        row.custom_fields = custom_fields
    for column, value in read_only.items():
        setattr(row, column, value)
    if faults.on("patch-rewrites-createdat"):  # an upsert writes every column, created_at too
        row.created_us = now_us()
    if not move or faults.on("patch-updatedat-frozen") or faults.on("patch-answer-stale-updatedat"):
        return  # (the last: a database trigger moves it, see _touch_by_trigger)
    if faults.on("patch-updatedat-local-time"):
        row.updated_us = _host_wall_clock_us()  # an onupdate=datetime.now column default
    else:
        row.updated_us = max(now_us(), row.updated_us)


def _host_wall_clock_us() -> int:
    """The patch-updatedat-local-time fault: naive `datetime.now()` on the host, read back as if it were UTC."""
    naive = datetime.now(HOST_ZONE).replace(tzinfo=None)
    return int(naive.replace(tzinfo=UTC).timestamp()) * 1_000_000 + naive.microsecond


def _touch_by_trigger(session: Session, row: Customer) -> None:
    """The patch-answer-stale-updatedat fault: updated_at is the database's to set (a trigger), and the ORM
    object is not refreshed after the UPDATE."""
    table = Customer.__table__
    session.execute(table.update().where(table.c.seq == row.seq)
                    .values(updated_us=func.max(table.c.updated_us, now_us())))


def _announce_unchanged(ref: Reference, session: Session, team: str | None, customer_id: str) -> None:
    """The rejected-patch-emits-updated fault: the change hook already fired when validation failed."""
    row = find_customer(session, team, customer_id)
    if row is not None:
        customer = ref.render.customer(row)
        event = ref.render.event(row.team_id, "customer.updated", customer)
        ref.dispatcher.publish([Event(row.team_id, "customer.updated", event)])


def _write_valid_prefix(ref: Reference, session: Session, team: str | None, customer_id: str, body: Any) -> None:
    """The patch-invalid-partial-write fault: fields were validated and saved one by one, in body order,
    so those before the first invalid one are written (and committed) already."""
    row = find_customer(session, team, customer_id)
    if row is None or not isinstance(body, dict):
        return
    valid: dict[str, Any] = {}
    for key, value in body.items():
        try:
            ref.models.customer_patch.model_validate({key: value})
        except ValidationError:
            break
        valid[key] = value
    if not valid:
        return
    prefix = ref.models.customer_patch.model_validate(valid)
    current = _state(row)
    _write(ref, row, _patched(ref, current, prefix, prefix.model_fields_set), {})
    session.commit()
