"""The database of the reference server: SQLAlchemy 2 ORM models on one real SQLite file, the engine,
and sessions (a request gets one session; a write request's transaction is its unit of work).

Write transactions start with ``BEGIN IMMEDIATE``: SQLite then serialises writers at the start of the
transaction (waiting on its busy timeout) instead of failing one when two upgrade a read lock at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, Engine, ForeignKey, String, Text, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from .faults import FaultSet


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)  # creation order, the tie breaker
    id: Mapped[str] = mapped_column(String(36), unique=True)
    team_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(Text)
    name_lower: Mapped[str] = mapped_column(Text)  # Python's lower(): SQLite's own folds ASCII only
    email: Mapped[str] = mapped_column(Text)  # exactly as sent
    email_lower: Mapped[str] = mapped_column(Text)  # the unique index and search use this one
    status: Mapped[str] = mapped_column(String(16))
    sentiment: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    ticket_count: Mapped[int] = mapped_column(default=0)
    created_us: Mapped[int]
    updated_us: Mapped[int]
    deleted: Mapped[bool] = mapped_column(default=False)  # only the soft-delete faults set it


class Ticket(Base):
    __tablename__ = "tickets"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    team_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_us: Mapped[int]
    updated_us: Mapped[int]


class Webhook(Base):
    __tablename__ = "webhooks"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    team_id: Mapped[str] = mapped_column(String(36), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_us: Mapped[int]

    def wants(self, event_type: str) -> bool:
        return subscribed(self.events, event_type)


def subscribed(events: Iterable[str], event_type: str) -> bool:
    """Whether a subscription (a webhook's `events`) takes events of this type."""
    return any(subscription in ("*", event_type) for subscription in events)


class IdempotencyRecord(Base):
    """A stored answer to a POST with an Idempotency-Key, written in the same transaction as its effect."""

    __tablename__ = "idempotency_keys"

    team_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    media_type: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


EMAIL_INDEX_PREFIX = 64  # the email-unique-prefix-index fault: characters of the address the unique key holds


def email_index(faults: FaultSet) -> str:
    """The DDL of the index that keeps an address unique per team (whatever its letter case) among live
    customers — and the way each uniqueness fault gets it wrong."""
    if faults.on("email-unique-race") or faults.on("duplicate-email-200"):
        return "CREATE INDEX ix_customers_email ON customers (team_id, email_lower)"  # not unique
    columns = "team_id, email_lower"
    if faults.on("email-case-sensitive-unique"):
        columns = "team_id, email"
    elif faults.on("email-unique-global"):
        columns = "email_lower"
    elif faults.on("email-unique-prefix-index"):  # MySQL's UNIQUE KEY (team_id, email(64)): a prefix index
        columns = f"team_id, substr(email_lower, 1, {EMAIL_INDEX_PREFIX})"
    where = "" if faults.on("delete-keeps-email-reserved") else " WHERE deleted = 0"
    return f"CREATE UNIQUE INDEX ux_customers_email ON customers ({columns}){where}"


# The search-fts-word-prefix fault's full-text index: an FTS5 table over name and email, kept by triggers.
SEARCH_INDEX_DDL = (
    "CREATE VIRTUAL TABLE customers_fts USING fts5(name, email, content='customers', content_rowid='seq', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER customers_fts_ai AFTER INSERT ON customers BEGIN "
    "INSERT INTO customers_fts(rowid, name, email) VALUES (new.seq, new.name, new.email); END",
    "CREATE TRIGGER customers_fts_ad AFTER DELETE ON customers BEGIN INSERT INTO customers_fts(customers_fts, "
    "rowid, name, email) VALUES ('delete', old.seq, old.name, old.email); END",
    "CREATE TRIGGER customers_fts_au AFTER UPDATE ON customers BEGIN INSERT INTO customers_fts(customers_fts, "
    "rowid, name, email) VALUES ('delete', old.seq, old.name, old.email); "
    "INSERT INTO customers_fts(rowid, name, email) VALUES (new.seq, new.name, new.email); END",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def remove_database_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


class Database:
    """The engine on a fresh SQLite file (existing content is dropped), and its sessions."""

    def __init__(self, path: str, faults: FaultSet) -> None:
        remove_database_files(path)
        self.path = path
        self.engine: Engine = create_engine(
            f"sqlite:///{path}", json_serializer=_dumps,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=16, max_overflow=32,
        )
        # SQLite's default: foreign keys OFF (cascade-one-batch-of-50: the application cascades itself)
        foreign_keys = not (faults.on("delete-no-cascade") or faults.on("cascade-one-batch-of-50"))

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(connection: Any) -> None:
            immediate = connection.get_execution_options().get("write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        self._writer = self.engine.execution_options(write=True)
        Base.metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            connection.execute(text(email_index(faults)))
            for statement in SEARCH_INDEX_DDL if faults.on("search-fts-word-prefix") else ():
                connection.execute(text(statement))

    def reader(self) -> Session:
        """A session for reads (WAL: never blocked by a writer)."""
        return Session(self.engine, expire_on_commit=False)

    def writer(self) -> Session:
        """A session whose transaction takes SQLite's write lock when it starts."""
        return Session(self._writer, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()
