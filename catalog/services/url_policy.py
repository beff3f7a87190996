"""The Mart URL policy: which databases a source system (or a test run's source) may read.

`check_mart_url` is the one gate, called where a Mart URL enters (source create/update, test-run
start) and again right before a connection is opened (so a URL stored before the policy is refused
too). A Mart is never the app's own database (its users, tokens and sessions would be profiled for
every member to read); file databases live only in configured directories
(`WORKBENCH_MART_SQLITE_DIRS`) and must be what they claim; servers may be limited to an allow-list
(`WORKBENCH_MART_HOSTS`); and the dialect's driver must be installed.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from django.conf import settings
from django.core.exceptions import ValidationError
from sqlalchemy.engine import URL, make_url

NOT_A_URL = "This is not a SQLAlchemy URL (expected dialect://user@host/database)."
APP_DATABASE = (
    "This URL points at the workbench's own database; a Mart must be a separate database."
)
SERVICE = "A Mart URL cannot name a libpq service; give its host, port and database instead."
IN_MEMORY = "An in-memory database is not a Mart; give the path of a database file."

FILE_FAMILIES = {"sqlite", "duckdb"}
FILE_LABELS = {"sqlite": "SQLite", "duckdb": "DuckDB"}
FILE_HEADERS = {"sqlite": (0, b"SQLite format 3\x00"), "duckdb": (8, b"DUCK")}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433, "oracle": 1521}
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1", "0.0.0.0"}
# SQLAlchemy scheme or Django backend name → one family name
FAMILIES = {
    "postgres": "postgresql",
    "postgis": "postgresql",
    "postgresql_psycopg2": "postgresql",
    "mariadb": "mysql",
    "sqlite3": "sqlite",
    "spatialite": "sqlite",
}
# the module a dialect imports → the package that provides it
DRIVER_PACKAGES = {
    "MySQLdb": "mysqlclient",
    "pymysql": "pymysql",
    "mysql": "mysql-connector-python",
    "mariadb": "mariadb",
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pg8000": "pg8000",
    "asyncpg": "asyncpg",
    "pymssql": "pymssql",
    "pyodbc": "pyodbc",
    "oracledb": "oracledb",
    "cx_Oracle": "cx_Oracle",
    "duckdb": "duckdb-engine",
}


@dataclass(frozen=True)
class ServerAddress:
    family: str
    host: str
    port: int | None
    database: str


def check_mart_url(url: str) -> None:
    """Refuse a Mart URL the policy does not allow: a `ValidationError({"url": why})`."""
    problem = _problem(url)
    if problem:
        raise ValidationError({"url": problem})


def _problem(raw: str) -> str | None:
    try:
        url = make_url((raw or "").strip())
    except (sa.exc.ArgumentError, ValueError):
        return NOT_A_URL
    family = _family(url.get_backend_name())
    if family in FILE_FAMILIES:
        return _file_problem(url, family) or _driver_problem(url)
    if url.query.get("service"):
        return SERVICE
    addresses = _server_addresses(url, family)
    if any(_is_app_server(address) for address in addresses):
        return APP_DATABASE
    return _driver_problem(url) or _host_problem(addresses)


def _family(name: str) -> str:
    return FAMILIES.get(name, name)


# --- the app's own databases ----------------------------------------------------------------


def app_database_settings() -> list[dict]:
    """Every database the app itself uses (each alias, and its test database), as Django settings
    dicts; a function of its own so a test can describe a PostgreSQL app database."""
    found: list[dict] = []
    for config in settings.DATABASES.values():
        found.append(dict(config))
        test_name = (config.get("TEST") or {}).get("NAME")
        if test_name:
            found.append({**config, "NAME": test_name})
    return found


def _app_family(config: dict) -> str:
    return _family(str(config.get("ENGINE", "")).rsplit(".", 1)[-1])


def _app_sqlite_paths() -> list[str]:
    return [
        os.path.realpath(str(config["NAME"]))
        for config in app_database_settings()
        if _app_family(config) == "sqlite" and not _is_memory_name(str(config.get("NAME") or ""))
    ]


def _app_servers() -> list[ServerAddress]:
    servers = []
    for config in app_database_settings():
        family = _app_family(config)
        if family in FILE_FAMILIES:
            continue
        port = str(config.get("PORT") or "").strip()
        servers.append(
            ServerAddress(
                family=family,
                host=_normal_host(str(config.get("HOST") or "")),
                port=int(port) if port.isdigit() else DEFAULT_PORTS.get(family),
                database=str(config.get("NAME") or ""),
            )
        )
    return servers


def _server_addresses(url: URL, family: str) -> list[ServerAddress]:
    """Where the driver will connect: the query's host/port/database win over the URL's (the
    drivers receive the query as connection arguments), a socket means this machine."""
    hosts = _query_values(url, "host", "hostaddr") or [url.host or ""]
    if _query_values(url, "unix_socket"):
        hosts = ["localhost"]
    ports = _query_values(url, "port")
    database = (_query_values(url, "dbname", "database", "db") or [url.database or ""])[0]
    addresses = []
    for host in hosts:
        # `host:port` items, as multi-host libpq URLs give them
        name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
        port = port or (ports[0] if ports else "")
        addresses.append(
            ServerAddress(
                family=family,
                host=_normal_host(name),
                port=int(port) if port.isdigit() else url.port or DEFAULT_PORTS.get(family),
                database=database,
            )
        )
    return addresses


def _query_values(url: URL, *keys: str) -> list[str]:
    values: list[str] = []
    for key in keys:
        value = url.query.get(key)
        items = [value] if isinstance(value, str) else list(value or ())
        values += [part.strip() for item in items for part in item.split(",") if part.strip()]
    return values


def _normal_host(host: str) -> str:
    host = host.strip().strip("[]").lower()
    # a socket path is this machine
    return "localhost" if host in LOCAL_HOSTS or host.startswith("/") else host


def _is_app_server(mart: ServerAddress) -> bool:
    return any(
        (app.family, app.port, app.database) == (mart.family, mart.port, mart.database)
        and _same_host(app.host, mart.host)
        for app in _app_servers()
    )


def _same_host(a: str, b: str) -> bool:
    """Same spelling, or two names of one machine (an IP for a host name): resolved only when
    family, port and database already match, so an ordinary Mart costs no lookup."""
    return a == b or bool(_addresses(a) & _addresses(b))


def _addresses(host: str) -> set[str]:
    if host == "localhost":
        return {"127.0.0.1", "::1"}
    try:
        return {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return set()


# --- database files -------------------------------------------------------------------------


def _is_memory_name(database: str) -> bool:
    return database in ("", ":memory:") or "mode=memory" in database


def _file_path(url: URL) -> str:
    """The file a SQLite/DuckDB URL opens (a `file:` URI's path), '' for a memory database."""
    database = url.database or ""
    if _is_memory_name(database) or url.query.get("mode") == "memory":
        return ""
    if database.startswith("file:"):
        return urlsplit(database).path
    return database


def _file_problem(url: URL, family: str) -> str | None:
    given = _file_path(url)
    if not given:
        return IN_MEMORY
    # sqlite opens a relative path from the working directory, as realpath resolves it
    path = os.path.realpath(given)
    if any(_same_file(path, app) for app in _app_sqlite_paths()):
        return APP_DATABASE
    allowed = allowed_file_dirs()
    if not any(_is_inside(path, directory) for directory in allowed):
        return (
            f"The database file {given} is outside the directories allowed for Mart files "
            f"({', '.join(allowed)}); an administrator sets WORKBENCH_MART_SQLITE_DIRS."
        )
    label = FILE_LABELS[family]
    if not os.path.isfile(path):
        return f"The {label} file {given} does not exist."
    if not _has_header(path, family):
        return f"The file {given} is not a {label} database."
    return None


def allowed_file_dirs() -> list[str]:
    return [os.path.realpath(str(d)) for d in settings.WORKBENCH_MART_SQLITE_DIRS]


def _is_inside(path: str, directory: str) -> bool:
    return os.path.commonpath([path, directory]) == directory


def _same_file(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # a hard link to the app's database
    except OSError:
        return False


def _has_header(path: str, family: str) -> bool:
    offset, magic = FILE_HEADERS[family]
    try:
        with Path(path).open("rb") as handle:
            return handle.read(offset + len(magic))[offset:] == magic
    except OSError:
        return False


# --- hosts and drivers ----------------------------------------------------------------------


def _host_problem(addresses: list[ServerAddress]) -> str | None:
    allowed = [_normal_host(h) for h in settings.WORKBENCH_MART_HOSTS if h.strip()]
    refused = [a.host for a in addresses if a.host not in allowed]
    if not allowed or not refused:
        return None
    host = refused[0]
    return (
        f"The Mart host '{host}' is not allowed (allowed: {', '.join(allowed)}); "
        "an administrator sets WORKBENCH_MART_HOSTS."
    )


def _driver_problem(url: URL) -> str | None:
    try:
        url.get_dialect().import_dbapi()
    except sa.exc.NoSuchModuleError:
        return (
            f"Unknown database dialect '{url.drivername}': SQLAlchemy has no dialect or driver "
            "installed for it."
        )
    except ImportError as exc:
        module = (exc.name or "").split(".")[0]
        package = DRIVER_PACKAGES.get(module, module or url.drivername)
        return f"The driver for {url.drivername} is not installed (pip install {package})."
    return None
