"""A realistic, deterministic Marketing Data Mart in an SQLite file, for the demo and for tests.

`build_demo_mart(path)` writes the same file every time (seeded): customers with addresses and
channel subscriptions, campaigns, email events and a channel lookup — with the mess real Marts
have: mixed-case emails, phones in several formats, dates stored as text in more than one format,
NULLs, campaign codes sometimes missing on events, duplicate-looking customers, a column named like
an SQL keyword ("order") and one with a space ("Customer Segment").
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from django.conf import settings

SEED = 360
CUSTOMERS = 1200
DUPLICATES = 60
CAMPAIGNS = 36
EVENTS = 4000

SCHEMA = """
CREATE TABLE ref_channel (
    channel_code    TEXT PRIMARY KEY,
    channel_name    TEXT NOT NULL,
    channel_group   TEXT,
    is_paid         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE crm_customer (
    customer_id         INTEGER PRIMARY KEY,
    source_customer_ref TEXT,
    first_name          TEXT,
    last_name           TEXT,
    email               TEXT,
    phone               TEXT,
    birth_date          TEXT,
    gender              TEXT,
    "Customer Segment"  TEXT,
    status              TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT
);
CREATE TABLE crm_customer_address (
    address_id      INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES crm_customer (customer_id),
    address_type    TEXT,
    "order"         INTEGER NOT NULL DEFAULT 1,
    line_1          TEXT,
    line_2          TEXT,
    city            TEXT,
    postcode        TEXT,
    country_code    TEXT,
    valid_from      TEXT
);
CREATE TABLE crm_subscription (
    subscription_id INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES crm_customer (customer_id),
    channel_code    TEXT NOT NULL REFERENCES ref_channel (channel_code),
    opt_in_flag     TEXT,
    opt_in_date     TEXT,
    opt_out_date    TEXT,
    capture_source  TEXT
);
CREATE TABLE mkt_campaign (
    campaign_id     INTEGER PRIMARY KEY,
    campaign_code   TEXT,
    campaign_name   TEXT NOT NULL,
    channel_code    TEXT REFERENCES ref_channel (channel_code),
    channel_group   TEXT,
    start_date      TEXT,
    end_date        TEXT,
    budget_gbp      NUMERIC(12, 2),
    owner_email     TEXT
);
CREATE TABLE mkt_email_event (
    event_id        INTEGER PRIMARY KEY,
    customer_id     INTEGER REFERENCES crm_customer (customer_id),
    campaign_id     INTEGER REFERENCES mkt_campaign (campaign_id),
    campaign_code   TEXT,
    event_type      TEXT NOT NULL,
    event_ts        TEXT NOT NULL,
    email_address   TEXT,
    device          TEXT,
    link_url        TEXT
);
CREATE INDEX ix_event_customer ON mkt_email_event (customer_id);
CREATE INDEX ix_event_campaign ON mkt_email_event (campaign_id, event_type);
CREATE UNIQUE INDEX ux_customer_ref ON crm_customer (source_customer_ref);
CREATE VIEW v_active_customer AS
    SELECT customer_id, first_name, last_name, lower(email) AS email
    FROM crm_customer WHERE upper(status) = 'ACTIVE';
"""

CHANNELS = [
    ("EML", "Email", "Owned", 0),
    ("SMS", "SMS", "Owned", 0),
    ("WEB", "Website", "Owned", 0),
    ("STR", "Store", "Offline", 0),
    ("PSO", "Paid social", "Paid", 1),
    ("PSE", "Paid search", "Paid", 1),
    ("DM", "Direct mail", "Offline", 1),
    ("APP", "Mobile app push", None, 0),
]
FIRST = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Jack",
    "Sofia",
    "Grace",
    "Freya",
    "Theo",
    "Zara",
    "Mohammed",
    "Aisha",
    "Chloé",
    "Zoë",
    "Seán",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "O'Brien",
    "Nowak",
    "Müller",
]
CITIES = [
    ("London", "SW1A 1AA"),
    ("Manchester", "M1 1AE"),
    ("Leeds", "LS1 4DY"),
    ("Bristol", "BS1 5TR"),
    ("Glasgow", "G1 1XQ"),
    ("Cardiff", "CF10 1EP"),
    ("Belfast", "BT1 5GS"),
    ("Birmingham", "B1 1BB"),
]
DOMAINS = [
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "hotmail.co.uk",
    "icloud.com",
    "acme-mail.example",
]
SEGMENTS = ["Loyal", "Lapsed", "New", "VIP", "At risk", None]
STATUSES = ["ACTIVE"] * 6 + ["active", "Inactive", "CLOSED", None]
CAMPAIGN_THEMES = [
    "Spring Sale",
    "Summer Launch",
    "Back to School",
    "Black Friday",
    "Winter Warmers",
    "Loyalty Bonus",
    "Win-back",
    "Welcome Series",
    "Newsletter",
]
EVENT_TYPES = ["SENT"] * 10 + ["OPEN"] * 4 + ["open", "CLICK", "CLICK", "BOUNCE", "UNSUB"]


def default_path() -> Path:
    return Path(settings.VAR_DIR) / "demo_mart.sqlite3"


def build_demo_mart(path: str | Path | None = None) -> Path:
    """(Re)build the demo Mart file at `path` (default var/demo_mart.sqlite3); the same every time."""
    path = Path(path or default_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    rng = random.Random(SEED)
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO ref_channel VALUES (?, ?, ?, ?)", CHANNELS)
        customers = _customers(rng)
        db.executemany(f"INSERT INTO crm_customer VALUES ({', '.join('?' * 12)})", customers)
        db.executemany(
            f"INSERT INTO crm_customer_address VALUES ({', '.join('?' * 10)})",
            _addresses(rng, customers),
        )
        db.executemany(
            f"INSERT INTO crm_subscription VALUES ({', '.join('?' * 7)})",
            _subscriptions(rng, customers),
        )
        campaigns = _campaigns(rng)
        db.executemany(f"INSERT INTO mkt_campaign VALUES ({', '.join('?' * 9)})", campaigns)
        db.executemany(
            f"INSERT INTO mkt_email_event VALUES ({', '.join('?' * 9)})",
            _events(rng, customers, campaigns),
        )
        db.commit()
    finally:
        db.close()
    return path


def ensure_demo_mart(path: str | Path | None = None) -> Path:
    path = Path(path or default_path())
    return path if path.exists() else build_demo_mart(path)


def _date(rng: random.Random, year_from: int, year_to: int) -> tuple[int, int, int]:
    return rng.randint(year_from, year_to), rng.randint(1, 12), rng.randint(1, 28)


def _messy_date(rng: random.Random, ymd: tuple[int, int, int]) -> str:
    y, m, d = ymd
    style = rng.random()
    if style < 0.7:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if style < 0.9:
        return f"{d:02d}/{m:02d}/{y:04d}"
    return f"{y:04d}{m:02d}{d:02d}"


def _phone(rng: random.Random) -> str | None:
    digits = f"7{rng.randint(100000000, 999999999)}"
    style = rng.random()
    if style < 0.1:
        return None
    if style < 0.4:
        return f"+44 {digits[:4]} {digits[4:]}"
    if style < 0.7:
        return f"0{digits}"
    if style < 0.85:
        return f"(0{digits[:4]}) {digits[4:7]}-{digits[7:]}"
    return f"0044{digits}"


def _customers(rng: random.Random) -> list[tuple]:
    rows = []
    for customer_id in range(1, CUSTOMERS + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".replace("'", "").replace(" ", "")
        email = f"{local}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
        email = (
            rng.choice([email.lower(), email, email.upper()])
            if rng.random() < 0.3
            else email.lower()
        )
        created = _date(rng, 2015, 2024)
        rows.append(
            (
                customer_id,
                f"CRM-{100000 + customer_id}",
                first,
                last,
                None if rng.random() < 0.04 else email,
                _phone(rng),
                None if rng.random() < 0.15 else _messy_date(rng, _date(rng, 1945, 2005)),
                rng.choice(["F", "M", "f", "m", "U", None]),
                rng.choice(SEGMENTS),
                rng.choice(STATUSES),
                f"{created[0]:04d}-{created[1]:02d}-{created[2]:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
                None
                if rng.random() < 0.5
                else f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            )
        )
    # duplicate-looking customers: same person, new id, email in another case, phone reformatted
    for n in range(DUPLICATES):
        original = rows[rng.randrange(CUSTOMERS)]
        duplicate_email = original[4].upper() if original[4] else None
        rows.append(
            (
                CUSTOMERS + n + 1,
                f"WEB-{500000 + n}",
                original[2],
                original[3].upper(),
                duplicate_email,
                _phone(rng),
                original[6],
                original[7],
                None,
                "ACTIVE",
                f"2025-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d} 12:00:00",
                None,
            )
        )
    return rows


def _addresses(rng: random.Random, customers: list[tuple]) -> list[tuple]:
    rows, address_id = [], 0
    for customer in customers:
        for order in range(1, (2 if rng.random() < 0.25 else 1) + 1):
            address_id += 1
            city, postcode = rng.choice(CITIES)
            rows.append(
                (
                    address_id,
                    customer[0],
                    rng.choice(["HOME", "home", "BILLING", "Work", None])
                    if order == 1
                    else "DELIVERY",
                    order,
                    f"{rng.randint(1, 220)} {rng.choice(['High Street', 'Station Road', 'Church Lane', 'Victoria Road', 'Mill Lane'])}",
                    None if rng.random() < 0.8 else f"Flat {rng.randint(1, 40)}",
                    city if rng.random() < 0.9 else city.upper(),
                    postcode if rng.random() < 0.85 else postcode.replace(" ", "").lower(),
                    rng.choice(["GB"] * 8 + ["UK", "gb", None]),
                    _messy_date(rng, _date(rng, 2015, 2025)),
                )
            )
    return rows


def _subscriptions(rng: random.Random, customers: list[tuple]) -> list[tuple]:
    rows, subscription_id = [], 0
    for customer in customers:
        for channel in rng.sample(["EML", "SMS", "DM", "APP"], k=rng.randint(1, 3)):
            subscription_id += 1
            opted_in = rng.random() < 0.8
            rows.append(
                (
                    subscription_id,
                    customer[0],
                    channel,
                    rng.choice(["Y", "Y", "1", "yes"])
                    if opted_in
                    else rng.choice(["N", "0", None]),
                    _messy_date(rng, _date(rng, 2016, 2025)) if opted_in else None,
                    None
                    if opted_in or rng.random() < 0.3
                    else _messy_date(rng, _date(rng, 2020, 2025)),
                    rng.choice(["web_form", "store_pos", "import_2019", "app", None]),
                )
            )
    return rows


def _campaigns(rng: random.Random) -> list[tuple]:
    rows = []
    groups = {code: group for code, _name, group, _paid in CHANNELS}
    for campaign_id in range(1, CAMPAIGNS + 1):
        year = 2023 + campaign_id % 3
        theme = CAMPAIGN_THEMES[campaign_id % len(CAMPAIGN_THEMES)]
        channel = rng.choice(["EML", "EML", "SMS", "PSO", "PSE", "DM"])
        start = _date(rng, year, year)
        rows.append(
            (
                campaign_id,
                None if campaign_id % 9 == 0 else f"CMP-{year}-{campaign_id:03d}",
                f"{theme} {year}",
                channel,
                groups[channel],
                f"{start[0]:04d}-{start[1]:02d}-{start[2]:02d}",
                None
                if rng.random() < 0.2
                else f"{start[0]:04d}-{min(12, start[1] + 1):02d}-{start[2]:02d}",
                round(rng.uniform(2_000, 80_000), 2),
                rng.choice(["marketing@acme.example", "CRM.Team@Acme.example", None]),
            )
        )
    return rows


def _events(rng: random.Random, customers: list[tuple], campaigns: list[tuple]) -> list[tuple]:
    email_campaigns = [c for c in campaigns if c[3] in ("EML", "SMS")] or campaigns
    rows = []
    for event_id in range(1, EVENTS + 1):
        customer = rng.choice(customers)
        campaign = rng.choice(email_campaigns) if rng.random() < 0.92 else None
        y, m, d = _date(rng, 2023, 2025)
        rows.append(
            (
                event_id,
                customer[0] if rng.random() < 0.97 else None,
                campaign[0] if campaign else None,
                campaign[1] if campaign and rng.random() < 0.85 else None,
                rng.choice(EVENT_TYPES),
                f"{y:04d}-{m:02d}-{d:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                customer[4] if rng.random() < 0.9 else (customer[4] or "").lower() or None,
                rng.choice(["mobile", "desktop", "tablet", "Mobile", None]),
                None if rng.random() < 0.7 else f"https://acme.example/p/{rng.randint(1, 400)}",
            )
        )
    return rows
