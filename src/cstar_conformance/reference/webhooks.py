"""Webhook registrations: create (the signing secret is returned once), list, get, delete."""

import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from starlette.responses import Response

from . import idempotency, paging
from .auth import Caller
from .context import Reference, Unit
from .errors import not_found, parse_id
from .idempotency import IdempotencyKey
from .render import now_us
from .routing import route_kit
from .storage import Webhook


def router(ref: Reference) -> APIRouter:
    models = ref.models
    reader, writer, read_session, unit, idempotency_key, routes = route_kit(ref)
    Query_: Any = Annotated[models.page_query, Query()]  # noqa: N806 - a type built for this server
    CreateBody: Any = models.webhook_create  # noqa: N806

    @routes.get("/webhooks")
    def list_route(query: Query_, caller: Caller = reader, session: Session = read_session) -> Response:
        page = paging.page_of(ref, query)
        condition = Webhook.team_id == caller.team_id
        total = session.scalar(select(func.count()).select_from(Webhook).where(condition)) or 0
        window = paging.window(page, total)
        rows = [] if window is None else session.scalars(
            select(Webhook).where(condition).order_by(Webhook.seq).offset(window[0]).limit(window[1])).all()
        pagination = page.pagination(ref, total)
        if ref.faults.on("webhook-list-hasmore-int"):  # the bug: computed in SQL, SQLite's 0/1
            pagination["hasMore"] = session.scalar(text("SELECT count(*) > :end FROM webhooks WHERE team_id = :team"),
                                                   {"end": page.number * page.size, "team": caller.team_id})
        return ref.render.ok([ref.render.webhook(row) for row in rows], pagination=pagination)

    if ref.faults.on("pk-registers-webhooks"):  # the bug: the read dependency, copied from the list route
        registrar, idempotency_key = reader, idempotency.dependency(ref, reader)
    else:
        registrar = writer

    @routes.post("/webhooks")
    def create_route(body: CreateBody, caller: Caller = registrar, work: Unit = unit,
                     key: IdempotencyKey | None = idempotency_key) -> Response:
        return create_webhook(ref, work, caller, body, key)

    @routes.get("/webhooks/{webhook_id}")
    def get_route(webhook_id: str, caller: Caller = reader, session: Session = read_session) -> Response:
        row = _find(session, caller, parse_id(webhook_id, "webhook"))
        if row is None:
            raise not_found("webhook", "webhookId")
        return ref.render.ok(ref.render.webhook(row))

    @routes.delete("/webhooks/{webhook_id}")
    def delete_route(webhook_id: str, caller: Caller = writer, work: Unit = unit) -> Response:
        if ref.faults.on("webhook-delete-any-team"):  # the bug: by primary key, without the team condition
            row = work.session.scalars(select(Webhook).where(Webhook.id == parse_id(webhook_id, "webhook"))).first()
        else:
            row = _find(work.session, caller, parse_id(webhook_id, "webhook"))
        if row is None:
            raise not_found("webhook", "webhookId")
        work.session.delete(row)
        work.session.flush()
        if ref.faults.on("webhook-subscribers-cached-by-type"):  # that cache is dropped on every change
            ref.dispatcher.forget_subscribers()
        return ref.render.deleted("ticket-delete-answer", row.id)

    return routes


def _find(session: Session, caller: Caller, webhook_id: str) -> Webhook | None:
    return session.scalars(select(Webhook).where(Webhook.id == webhook_id, Webhook.team_id == caller.team_id)).first()


def is_http_url(url: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def create_webhook(ref: Reference, unit: Unit, caller: Caller, body: BaseModel,
                   key: IdempotencyKey | None) -> Response:
    stored = idempotency.replay(unit, key)
    if stored is not None:
        return stored
    values = body.model_dump()
    valid_url = is_http_url(values["url"])
    cleaned_after_save = ref.faults.on("webhook-validated-after-save")  # Django: create(), then full_clean()
    if not valid_url and not cleaned_after_save:
        raise ref.errors.invalid("url", "url must be an http or https URL")
    row = Webhook(id=str(uuid.uuid4()), team_id=caller.team_id, url=values["url"],
                  events=list(dict.fromkeys(values["events"])), secret="whsec_" + secrets.token_hex(16),
                  is_active=True, created_us=now_us())
    unit.session.add(row)
    unit.session.flush()
    if not valid_url:
        unit.session.commit()  # the bug: create() autocommitted the row before the model was validated
        raise ref.errors.invalid("url", "url must be an http or https URL")
    ref.dispatcher.forget(caller.team_id)  # (the DELETE route does not: webhook-targets-cached-past-delete)
    return idempotency.remember(unit, key, ref.render.ok(ref.render.webhook(row, with_secret=True), 201))
