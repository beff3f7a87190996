"""A day in the life of the demo Mart: what changes between two daily loads — new rows, changed
rows, a deleted customer — written into a copy of the Mart's SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The demo Mart's events fall in 2023–2025: the new day's come after all of them.
NEXT_DAY = "2026-01-02"


def _next_id(db: sqlite3.Connection, table: str, column: str) -> int:
    return db.execute(f"SELECT MAX({column}) FROM {table}").fetchone()[0] + 1


def next_day(mart_path: str | Path) -> dict[str, object]:
    """Apply one day of changes to the Mart at `mart_path`; returns what changed, for the story."""
    db = sqlite3.connect(mart_path)
    try:
        with db:
            return _changes(db)
    finally:
        db.close()


def _changes(db: sqlite3.Connection) -> dict[str, object]:
    campaign = _next_id(db, "mkt_campaign", "campaign_id")
    db.execute(
        "INSERT INTO mkt_campaign VALUES (?, ?, 'New Year 2026', 'EML', 'Owned', ?, NULL, 12500.5, "
        "'marketing@acme.example')",
        (campaign, f"CMP-2026-{campaign:03d}", NEXT_DAY),
    )
    db.execute(
        "UPDATE mkt_campaign SET campaign_name = campaign_name || ' (extended)' WHERE campaign_id = 2"
    )

    customer = _next_id(db, "crm_customer", "customer_id")
    db.execute(
        "INSERT INTO crm_customer VALUES (?, ?, 'Maëlle', 'Durand', 'Maelle.Durand@Example.com', "
        "'07700900123', '1990-04-01', 'F', 'New', 'ACTIVE', ?, NULL)",
        (customer, f"WEB-{900000 + customer}", f"{NEXT_DAY} 08:30:00"),
    )
    address = _next_id(db, "crm_customer_address", "address_id")
    db.execute(
        "INSERT INTO crm_customer_address VALUES (?, ?, 'HOME', 1, '1 New Street', NULL, 'York', "
        "'YO1 7HH', 'GB', ?)",
        (address, customer, NEXT_DAY),
    )
    subscription = _next_id(db, "crm_subscription", "subscription_id")
    db.execute(
        "INSERT INTO crm_subscription VALUES (?, ?, 'EML', 'Y', ?, NULL, 'web_form')",
        (subscription, customer, NEXT_DAY),
    )

    # yesterday's customer 3 changed her e-mail; customer 4 moved to Cardiff
    db.execute(
        "UPDATE crm_customer SET email = 'New.Address@Example.com', updated_at = ? WHERE customer_id = 3",
        (NEXT_DAY,),
    )
    db.execute(
        "UPDATE crm_customer_address SET city = 'Cardiff', postcode = 'CF10 1EP' WHERE customer_id = 4"
    )

    event = _next_id(db, "mkt_email_event", "event_id")
    new_events = [
        (event, customer, campaign, f"CMP-2026-{campaign:03d}", "SENT", f"{NEXT_DAY}T09:00:00"),
        (event + 1, customer, campaign, None, "OPEN", f"{NEXT_DAY}T09:05:00"),
        (event + 2, 3, campaign, None, "CLICK", f"{NEXT_DAY}T10:00:00"),
        # a late arrival: dated before the last loaded event
        (event + 3, 5, 1, None, "SENT", "2023-06-01T12:00:00"),
    ]
    db.executemany(
        "INSERT INTO mkt_email_event (event_id, customer_id, campaign_id, campaign_code, "
        "event_type, event_ts, email_address) VALUES (?, ?, ?, ?, ?, ?, NULL)",
        new_events,
    )

    # customer 2 asked to be forgotten: the Mart deletes the customer with everything of theirs
    for table in ("mkt_email_event", "crm_subscription", "crm_customer_address", "crm_customer"):
        db.execute(f"DELETE FROM {table} WHERE customer_id = 2")
    return {
        "new_campaign": campaign,
        "new_customer": customer,
        "new_events": [e[0] for e in new_events],
        "deleted_customer": 2,
    }


def next_day_statements(mart: Path) -> list[str]:
    """Statements, the same on SQLite and PostgreSQL, that change the Mart overnight: a changed
    e-mail, a new campaign with an event, a customer deleted with their addresses and
    subscriptions (one without e-mail events: appended events are never purged)."""
    with sqlite3.connect(mart) as db:
        (gone,) = db.execute(
            "SELECT MIN(c.customer_id) FROM crm_customer c "
            "JOIN crm_customer_address a ON a.customer_id = c.customer_id "
            "WHERE COALESCE(UPPER(c.status), 'ACTIVE') <> 'CLOSED' AND NOT EXISTS "
            "(SELECT 1 FROM mkt_email_event e WHERE e.customer_id = c.customer_id)"
        ).fetchone()
    return [
        "UPDATE crm_customer SET email = 'leo.wright.new@acme-mail.example' WHERE customer_id = 2",
        "INSERT INTO mkt_campaign (campaign_id, campaign_code, campaign_name, channel_code, "
        "start_date, budget_gbp) VALUES (9001, 'CMP-2026-901', 'Winter 2026', 'EML', "
        "'2026-12-01', 1500.00)",
        "INSERT INTO mkt_email_event (event_id, customer_id, campaign_id, campaign_code, "
        "event_type, event_ts, email_address) VALUES (90001, 2, 9001, 'CMP-2026-901', 'SENT', "
        "'2026-12-02T08:00:00', 'leo.wright.new@acme-mail.example')",
        # A customer deleted with their addresses and subscriptions: the purges remove them,
        # children first
        f"DELETE FROM crm_customer_address WHERE customer_id = {gone}",
        f"DELETE FROM crm_subscription WHERE customer_id = {gone}",
        f"DELETE FROM crm_customer WHERE customer_id = {gone}",
    ]
