"""The interface rows the completed demo mapping must produce, computed in plain Python from the
Mart file — independently of the generated SQL — and the loaded rows in a comparable form.

`unicode_case`: SQLite's LOWER/UPPER change ASCII letters only; PostgreSQL's (UTF-8) all letters.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from decimal import Decimal


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


def _ascii_upper(text: str) -> str:
    return "".join(c.upper() if "a" <= c <= "z" else c for c in text)


def _iso(text):
    if text is None:
        return None
    if re.fullmatch(r"../../....", text):
        return f"{text[6:10]}-{text[3:5]}-{text[0:2]}"
    if len(text) == 8:
        return f"{text[0:4]}-{text[4:6]}-{text[6:8]}"
    return text


def _e164(phone):
    if phone is None:
        return None
    digits = re.sub(r"[ ()+-]", "", phone)
    if digits.startswith("0044"):
        return "+" + digits[2:]
    if digits.startswith("44"):
        return "+" + digits
    return "+44" + digits[1:] if digits.startswith("0") else None


def _date(text):
    return None if text is None else dt.date.fromisoformat(text[:10]).isoformat()


def _timestamp(text):
    return None if text is None else dt.datetime.fromisoformat(text).isoformat(sep=" ")


def _money(value):
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def expected_rows(mart_path, *, unicode_case: bool) -> dict[str, dict[str, dict]]:
    """entity → {primary key: row}."""
    lower = str.lower if unicode_case else _ascii_lower
    upper = str.upper if unicode_case else _ascii_upper
    db = sqlite3.connect(mart_path)
    db.row_factory = sqlite3.Row
    # every customer is loaded, closed ones as churned: their children all find their parent
    customers = {r["customer_id"]: r for r in db.execute("SELECT * FROM crm_customer")}
    subscriptions = list(db.execute("SELECT * FROM crm_subscription"))
    email_opt_in = {
        s["customer_id"]: upper(s["opt_in_flag"] or "") in ("Y", "1", "YES")
        for s in subscriptions
        if s["channel_code"] == "EML"
    }
    lifecycle = {"ACTIVE": "active", "INACTIVE": "lapsed", "CLOSED": "churned"}
    out: dict[str, dict[str, dict]] = {}

    out["customer"] = {
        str(c["customer_id"]): {
            "customer_id": str(c["customer_id"]),
            "source_customer_key": c["source_customer_ref"] or "UNKNOWN",
            "first_name": c["first_name"].strip(" ") if c["first_name"] else c["first_name"],
            "last_name": c["last_name"].strip(" ") if c["last_name"] else c["last_name"],
            "email": lower(c["email"].strip(" ")) if c["email"] else None,
            "phone": _e164(c["phone"]),
            "birth_date": _date(_iso(c["birth_date"])),
            "gender": upper(c["gender"]) if c["gender"] and upper(c["gender"]) in "FM" else "U",
            "lifecycle_stage": lifecycle.get(upper(c["status"] or ""), "prospect"),
            "email_opt_in": email_opt_in.get(c["customer_id"], False),
            "created_at": _timestamp(c["created_at"]),
            "updated_at": _timestamp(c["updated_at"] or c["created_at"]),
        }
        for c in customers.values()
    }

    channels = {
        "EML": "email",
        "SMS": "sms",
        "WEB": "web",
        "STR": "store",
        "PSO": "paid_social",
        "DM": "direct_mail",
    }
    out["campaign"] = {
        str(m["campaign_id"]): {
            "campaign_id": str(m["campaign_id"]),
            "campaign_code": m["campaign_code"] or f"CMP-NONE-{m['campaign_id']}",
            "name": m["campaign_name"],
            "channel": channels.get(m["channel_code"], "web"),
            "start_date": _date(m["start_date"]),
            "end_date": _date(m["end_date"]),
            "budget_amount": _money(m["budget_gbp"]),
        }
        for m in db.execute("SELECT * FROM mkt_campaign")
    }

    address_types = {"BILLING": "billing", "DELIVERY": "shipping"}
    out["customer_address"] = {}
    for a in db.execute("SELECT * FROM crm_customer_address"):
        country = upper(a["country_code"]) if a["country_code"] is not None else None
        out["customer_address"][str(a["address_id"])] = {
            "address_id": str(a["address_id"]),
            "customer_id": str(a["customer_id"]),
            "address_type": address_types.get(upper(a["address_type"] or ""), "home"),
            "line_1": a["line_1"],
            "line_2": a["line_2"],
            "city": a["city"],
            "postal_code": upper(a["postcode"].strip(" ")) if a["postcode"] else None,
            "country_code": "GB" if country in ("UK", None) else country,
            "is_primary": a["order"] == 1,
        }

    out["subscription"] = {
        str(s["subscription_id"]): {
            "subscription_id": str(s["subscription_id"]),
            "customer_id": str(s["customer_id"]),
            "plan_code": f"NEWS-{s['channel_code']}",
            "status": "active"
            if upper(s["opt_in_flag"] or "") in ("Y", "1", "YES")
            else "cancelled",
            "start_date": _date(_iso(s["opt_in_date"])) or "2000-01-01",
            "end_date": _date(_iso(s["opt_out_date"])),
            "monthly_value": None,
        }
        for s in subscriptions
    }

    events = {"SENT": "sent", "OPEN": "opened", "CLICK": "clicked", "BOUNCE": "bounced"}
    events["UNSUB"] = "unsubscribed"
    out["email_event"] = {
        str(e["event_id"]): {
            "event_id": str(e["event_id"]),
            "customer_id": str(e["customer_id"]),
            "campaign_id": str(e["campaign_id"]),
            "event_type": events.get(upper(e["event_type"])),
            "event_ts": _timestamp(e["event_ts"]),
            "email_address": lower(e["email_address"].strip(" ")) if e["email_address"] else None,
            "link_url": e["link_url"],
            "bounce_reason": None,
        }
        for e in db.execute("SELECT * FROM mkt_email_event")
        if e["customer_id"] is not None and e["campaign_id"] is not None
    }
    db.close()
    return out


BOOLEAN = {"email_opt_in", "is_primary"}
DATES = {"birth_date", "start_date", "end_date"}
TIMESTAMPS = {"created_at", "updated_at", "event_ts"}
MONEY = {"budget_amount", "monthly_value"}


def comparable(row: dict) -> dict:
    """A loaded row (any engine) in the form `expected_rows` uses."""
    out = {}
    for name, value in row.items():
        if value is None:
            out[name] = None
        elif name in BOOLEAN:
            out[name] = bool(value)
        elif name in DATES:
            out[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        elif name in TIMESTAMPS:
            out[name] = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
        elif name in MONEY:
            out[name] = _money(value)
        else:
            out[name] = value
    return out


PRIMARY_KEYS = {
    "customer": "customer_id",
    "campaign": "campaign_id",
    "customer_address": "address_id",
    "subscription": "subscription_id",
    "email_event": "event_id",
}
