"""HubSpot's wire formats for property values: parse what clients send, render what we store.

Why its own module: every value on the wire is a string (or null) — numbers as "1234.5",
booleans "true"/"false", datetimes ISO-8601 with milliseconds and Z, dates "2025-03-04" — and
clients may send epoch milliseconds or ISO strings; one place decides both directions.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np

NULL_MS = int(np.iinfo(np.int64).min)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidValue(ValueError):
    """A property value HubSpot would reject; `error` is HubSpot's error code (INVALID_INTEGER ...)."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error


def format_number(value: float) -> str:
    """HubSpot renders integral numbers without a decimal point and others at full precision."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_datetime(ms: int) -> str:
    """Epoch milliseconds -> `2025-03-04T12:30:00.000Z` (hot path: no strftime)."""
    seconds, millis = divmod(ms, 1000)
    t = time.gmtime(seconds)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{millis:03d}Z")


def ms_from_datetime(moment: datetime) -> int:
    """An aware or naive-UTC datetime -> epoch milliseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int((moment - _EPOCH) / timedelta(milliseconds=1))


def ms_from_date(day: date) -> int:
    """A calendar date -> epoch milliseconds at midnight UTC."""
    return ms_from_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))


def parse_time(text: str, name: str, date_only: bool = False) -> int:
    """Epoch ms string, ISO datetime or YYYY-MM-DD -> epoch ms; HubSpot accepts all three."""
    raw = text.strip()
    if re.fullmatch(r"-?\d+", raw):
        value = int(raw)
    elif _DATE_RE.match(raw):
        value = ms_from_date(date.fromisoformat(raw))
    else:
        try:
            value = ms_from_datetime(datetime.fromisoformat(raw.replace("Z", "+00:00")))
        except ValueError as exc:
            raise InvalidValue(f"{text} was not a valid long.", "INVALID_DATE") from exc
    if date_only and value % 86_400_000:
        raise InvalidValue(
            f"{text} is at {format_datetime(value)} which is not midnight for property {name}",
            "INVALID_DATE",
        )
    return value


def parse_number(text: str) -> float:
    """A number property value; HubSpot rejects anything float() would not read as finite."""
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise InvalidValue(f"{text} was not a valid number.", "INVALID_FLOAT") from exc
    if not math.isfinite(value):
        raise InvalidValue(f"{text} was not a valid number.", "INVALID_FLOAT")
    return value


def parse_bool(text: str) -> str:
    """Booleans travel as "true"/"false"; HubSpot is case-insensitive on input."""
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidValue(f"{text} was not a valid boolean.", "INVALID_BOOLEAN")
    return lowered


def wire_text(value: object) -> str | None:
    """A JSON value a client sent for a property -> the string HubSpot would store."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    return str(value)
