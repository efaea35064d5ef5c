"""SOQL text built from parts: identifiers checked, values escaped and formatted as literals.

Why: cursor values come from dlt state and object/field names from config or describe; splicing
them into a query with f-strings invites malformed queries (a quoted datetime) and injection. Every
query the connector sends is built here, and the REST URL length is checked here too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote_plus

from spm_sync.errors import ConnectorError

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", '"': '\\"'}
_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})


def identifier(name: str) -> str:
    """An object or field API name, refused unless it is a plain identifier."""
    if not _IDENTIFIER.match(name):
        raise ConnectorError(f"not a valid Salesforce API name: {name!r}")
    return name


def escape_string(value: str) -> str:
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def to_utc(value: datetime) -> datetime:
    """Aware UTC datetime (naive values are taken as UTC, which is how dlt and Salesforce store them)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def floor_second(value: datetime) -> datetime:
    return to_utc(value).replace(microsecond=0)


def ceil_second(value: datetime) -> datetime:
    value = to_utc(value)
    return value if value.microsecond == 0 else value.replace(microsecond=0) + timedelta(seconds=1)


def literal(value: object) -> str:
    """A SOQL literal; datetimes go out in UTC as `YYYY-MM-DDThh:mm:ssZ` (the documented form)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConnectorError(f"cannot compare with a non-finite number ({value})")
        return repr(value)
    if isinstance(value, datetime):
        return to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return escape_string(value)
    raise ConnectorError(f"no SOQL literal for a {type(value).__name__}")


def condition(field: str, operator: str, value: object) -> str:
    if operator not in _OPERATORS:
        raise ConnectorError(f"unsupported SOQL operator {operator!r}")
    return f"{identifier(field)} {operator} {literal(value)}"


def any_of(*conditions: str) -> str:
    """`(a OR b)`: SOQL refuses AND and OR mixed at one level without parentheses."""
    return "(" + " OR ".join(conditions) + ")"


def all_of(*conditions: str) -> str:
    return "(" + " AND ".join(conditions) + ")"


def select(
    object_name: str,
    fields: Sequence[str],
    *,
    where: Sequence[str] = (),
    order_by: Sequence[str] = (),
) -> str:
    """`SELECT f1, f2 FROM Obj [WHERE a AND b] [ORDER BY x, y]`; conditions come from `condition()`."""
    text = f"SELECT {', '.join(identifier(f) for f in fields)} FROM {identifier(object_name)}"
    if where:
        text += " WHERE " + " AND ".join(where)
    if order_by:
        text += " ORDER BY " + ", ".join(f"{identifier(f)} ASC" for f in order_by)
    return text


def query_url_length(base_url: str, soql: str) -> int:
    """Length of `<base>queryAll?q=<soql>` as requests encodes it."""
    return len(base_url) + len("queryAll?q=") + len(quote_plus(soql))


def split_fields(
    object_name: str,
    fields: Sequence[str],
    *,
    keys: Sequence[str],
    where: Sequence[str],
    order_by: Sequence[str],
    base_url: str,
    max_length: int,
) -> list[list[str]]:
    """Field groups whose queries each fit in `max_length`; every group starts with `keys` (Id, cursor).

    One group when everything fits (the common case). Greedy packing in describe order.
    """
    rest = [f for f in fields if f not in keys]

    def fits(group: list[str]) -> bool:
        soql = select(object_name, group, where=where, order_by=order_by)
        return query_url_length(base_url, soql) <= max_length

    if fits([*keys, *rest]):
        return [[*keys, *rest]]
    groups: list[list[str]] = []
    current = list(keys)
    for name in rest:
        if fits([*current, name]):
            current.append(name)
            continue
        if len(current) == len(keys):
            raise ConnectorError(
                f"a query for this field alone is longer than {max_length} characters", object=object_name, field=name
            )
        groups.append(current)
        current = [*keys, name]
        if not fits(current):
            raise ConnectorError(
                f"a query for this field alone is longer than {max_length} characters", object=object_name, field=name
            )
    groups.append(current)
    return groups
