"""SQLite schema and engine of the reference server (SQLAlchemy Core, one real database file)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    # a monotonic sequence: the stable list order and its tie breaker
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("team_id", String(36), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("name_lower", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("email_lower", Text, nullable=False),
    # "<team>:<lowercased email>"; the unique index on it makes concurrent creates safe
    Column("email_key", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("sentiment", String(16), nullable=False),
    Column("tags", Text, nullable=False),  # JSON array
    Column("notes", Text, nullable=True),
    Column("custom_fields", Text, nullable=False),  # JSON object
    Column("ticket_counter", Integer, nullable=False, default=0),
    Column("created_us", Integer, nullable=False),
    Column("updated_us", Integer, nullable=False),
    Column("deleted", Integer, nullable=False, default=0),
)

tickets = Table(
    "tickets",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("team_id", String(36), nullable=False, index=True),
    Column("customer_id", String(36), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("priority", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_us", Integer, nullable=False),
    Column("updated_us", Integer, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("team_id", String(36), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON array
    Column("secret", Text, nullable=False),
    Column("is_active", Integer, nullable=False, default=1),
    Column("created_us", Integer, nullable=False),
)

idempotency = Table(
    "idempotency_keys",
    metadata,
    Column("team_id", String(36), primary_key=True),
    Column("key", Text, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("media_type", Text, nullable=True),
    Column("body", Text, nullable=False),
)


def remove_database_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def create_database(path: str, *, unique_email: bool) -> Engine:
    """A fresh database at ``path`` (existing content is dropped) and its engine."""
    remove_database_files(path)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=16,
        max_overflow=32,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    metadata.create_all(engine)
    unique = "UNIQUE " if unique_email else ""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE {unique}INDEX ix_customers_email_key ON customers (email_key)")
    return engine
