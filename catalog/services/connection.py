"""Connections to a Mart: SQLAlchemy Core only, read-only, with a statement timeout; secrets kept safe.

A source system's URL is stored without its password. The password is either encrypted (Fernet,
key from WORKBENCH_ENCRYPTION_KEY or derived from SECRET_KEY) or read from an environment variable
when a connection is opened. Every error leaving this module is a `JobError` whose message names
what went wrong and never contains the password. Which URLs may be opened at all is the Mart URL
policy's (`url_policy.check_mart_url`), checked again before every connection.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from workbench.jobs import JobError

from .url_policy import check_mart_url

CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_SECONDS = 60


# --- secrets --------------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = getattr(settings, "WORKBENCH_ENCRYPTION_KEY", "")
    if not key:
        digest = hashlib.sha256(f"mart-secrets:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise JobError(
            "The stored password cannot be decrypted (was WORKBENCH_ENCRYPTION_KEY changed?); "
            "enter the password again."
        ) from None


# --- URLs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitUrl:
    url: str  # without the password
    password: str
    dialect: str


def split_url(raw: str, *, field: str = "url") -> SplitUrl:
    """Parse a SQLAlchemy URL and take its password out; a clear field error when it cannot."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError({field: "Enter a SQLAlchemy URL, e.g. postgresql://user@host/db."})
    try:
        url = make_url(raw)
    except (sa.exc.ArgumentError, ValueError):
        raise ValidationError(
            {field: "This is not a SQLAlchemy URL (expected dialect://user@host/database)."}
        ) from None
    password = url.password or ""
    bare = url._replace(password=None)
    return SplitUrl(
        url=bare.render_as_string(hide_password=False),
        password=str(password),
        dialect=url.get_backend_name(),
    )


def password_of(source) -> str:
    if source.password_env:
        value = os.environ.get(source.password_env)
        if value is None:
            raise JobError(
                f"The environment variable {source.password_env} (the Mart password) is not set."
            )
        return value
    return decrypt_secret(source.password_encrypted)


def display_url(source) -> str:
    """The URL as shown to users: never the password, a mask when there is one."""
    url = make_url(source.url)
    if source.has_secret:
        url = url._replace(password="hidden")
    return url.render_as_string(hide_password=True)


def check_url_or_stop(url: str) -> None:
    """The Mart URL policy right before a connection is opened, as a job's stop: a URL stored
    before the policy existed (or a file changed since) is refused here too."""
    try:
        check_mart_url(url)
    except ValidationError as exc:
        raise JobError(" ".join(exc.messages)) from None


# --- engines --------------------------------------------------------------------------------


@dataclass
class MartEngine:
    engine: sa.Engine
    secret: str
    statement_timeout: float

    def scrub(self, text: str) -> str:
        if self.secret:
            text = text.replace(self.secret, "***")
            from urllib.parse import quote_plus

            text = text.replace(quote_plus(self.secret), "***")
        return text


def mart_engine(source, *, statement_timeout: float = STATEMENT_TIMEOUT_SECONDS) -> MartEngine:
    """An engine for the source's Mart: read-only where the dialect allows, with timeouts."""
    check_url_or_stop(source.url)
    secret = password_of(source)
    url = make_url(source.url)
    if secret:
        url = url._replace(password=secret)
    return read_only_engine(url, secret=secret, statement_timeout=statement_timeout)


def read_only_engine(
    url: URL, *, secret: str = "", statement_timeout: float = STATEMENT_TIMEOUT_SECONDS
) -> MartEngine:
    """The one way the workbench opens a Mart (introspection, profiling, test runs): every session
    read-only and every statement under `statement_timeout` — PostgreSQL's
    default_transaction_read_only and statement_timeout, MariaDB's / MySQL's read-only session
    transactions and max_statement_time / max_execution_time, SQLite's `mode=ro` and query_only,
    DuckDB's read_only. The URL policy is the caller's (it is checked before this)."""
    backend = url.get_backend_name()
    connect_args: dict = {}
    timeout_ms = max(1, int(statement_timeout * 1000))
    if backend == "sqlite":
        url = _sqlite_read_only(url)
    elif backend == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        connect_args["options"] = (
            f"-c statement_timeout={timeout_ms} -c default_transaction_read_only=on"
        )
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    elif backend == "duckdb":
        connect_args["read_only"] = True
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (sa.exc.ArgumentError, TypeError) as exc:
        raise JobError(f"The Mart URL cannot be used: {_scrub(str(exc), secret)}") from None
    _install_session_guards(engine, backend, statement_timeout)
    return MartEngine(engine=engine, secret=secret, statement_timeout=statement_timeout)


def _sqlite_read_only(url: URL) -> URL:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    if not os.path.exists(database):
        raise JobError(f"The SQLite file {database} does not exist.")
    return url._replace(
        database=f"file:{database}",
        query=url.update_query_dict({"mode": "ro", "uri": "true"}).query,
    )


def _install_session_guards(engine: sa.Engine, backend: str, timeout: float) -> None:
    timeout_ms = max(1, int(timeout * 1000))

    started: dict[int, float] = {}

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        if backend == "sqlite":
            dbapi_connection.execute("PRAGMA query_only = ON")
            key = id(dbapi_connection)
            started[key] = time.monotonic()
            # SQLite has no statement timeout: a progress handler interrupts a statement that
            # runs longer than the timeout (its start is noted before each execute).
            dbapi_connection.set_progress_handler(
                lambda: 1 if time.monotonic() - started.get(key, time.monotonic()) > timeout else 0,
                10_000,
            )
        elif backend in ("mysql", "mariadb"):
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():
                cursor.execute(f"SET SESSION max_statement_time = {timeout:g}")  # seconds
            else:
                cursor.execute(f"SET SESSION max_execution_time = {timeout_ms}")
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.close()

    if backend == "sqlite":

        @event.listens_for(engine, "before_cursor_execute")
        def on_execute(conn, _cursor, _statement, _parameters, _context, _executemany):
            started[id(conn.connection.dbapi_connection)] = time.monotonic()


@contextmanager
def mart_connection(mart: MartEngine, *, doing: str = "reading the Mart") -> Iterator[Connection]:
    """A read-only connection in one transaction, rolled back at the end; errors become JobErrors."""
    try:
        with mart.engine.connect() as conn:
            begin_read_only(conn, mart.statement_timeout)
            try:
                yield conn
            finally:
                conn.rollback()
    except JobError as exc:
        raise JobError(mart.scrub(str(exc))) from None
    except sa.exc.DBAPIError as exc:
        raise JobError(
            mart.scrub(describe_db_error(exc, doing=doing, timeout=mart.statement_timeout))
        ) from None
    except sa.exc.SQLAlchemyError as exc:
        raise JobError(mart.scrub(f"Failed while {doing}: {_first_line(str(exc))}")) from None
    finally:
        mart.engine.dispose()


def begin_read_only(conn: Connection, statement_timeout: float) -> None:
    """Begin a read-only transaction on a connection of `read_only_engine` (the session is
    read-only already; PostgreSQL also says so for the transaction, with its local timeout)."""
    conn.begin()
    if conn.dialect.name == "postgresql":
        timeout_ms = max(1, int(statement_timeout * 1000))
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")


def describe_db_error(exc: sa.exc.DBAPIError, *, doing: str, timeout: float) -> str:
    original = str(exc.orig) if exc.orig is not None else str(exc)
    text = original.lower()
    if (
        "statement timeout" in text
        or "canceling statement" in text
        or "interrupted" in text
        or "max_execution_time" in text
    ):
        return (
            f"The Mart did not answer within the statement timeout of {timeout:g} s while {doing}."
        )
    if (
        exc.connection_invalidated
        or isinstance(exc, sa.exc.OperationalError)
        and ("connect" in text or "password" in text or "authentication" in text or "role" in text)
    ):
        return f"Could not connect to the Mart: {_first_line(original)}"
    return f"The Mart refused a query while {doing}: {_first_line(original)}"


def _first_line(text: str) -> str:
    text = text.split("(Background on this error")[0].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def test_connection(source) -> str:
    """Open a connection and run a trivial query; return a short description of the server."""
    mart = mart_engine(source, statement_timeout=CONNECT_TIMEOUT_SECONDS)
    with mart_connection(mart, doing="testing the connection") as conn:
        conn.execute(sa.select(sa.literal(1))).scalar()
        dialect = conn.dialect
        version = ".".join(str(p) for p in (dialect.server_version_info or ()))
    return f"Connected to {dialect.name}{' ' + version if version else ''}."
