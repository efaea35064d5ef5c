"""KPI values in the CRM field's own type, and the one canonical form used to compare them.

Why pure and in one place: the value we send, the value we record in the ledger and the value we
read back from the CRM (Salesforce typed JSON, HubSpot strings) must compare equal whenever they
mean the same number, or every run would resend everything and flag human edits that are not.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from spm_sync.connectors.writing import FieldInfo

TEXT_DECIMALS = 4  # text fields: at most this many decimals, trailing zeros dropped
DEFAULT_SCALE = 6  # number fields whose CRM declares no scale (HubSpot): drop float noise only
PERCENT_SCALE = 2  # percent fields whose CRM declares no scale (HubSpot percentage): as Salesforce Percent(.., 2)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    """`81.25`, `100`, `0` - never exponent notation, never trailing zeros."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _rounded(number: Decimal, scale: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def scale_of(field: FieldInfo) -> int:
    """Decimal places a value keeps in the field: its declared scale, else the rule's default for its kind."""
    if field.kind == "integer":
        return 0
    if field.kind == "text":
        return TEXT_DECIMALS
    if field.scale is not None:
        return field.scale
    return PERCENT_SCALE if field.kind == "percent" else DEFAULT_SCALE


def crm_number(value: float | None, field: FieldInfo) -> Decimal | None:
    """The stored KPI as the field holds it: ratio x 100 for percent, rounded to the field's scale."""
    number = _decimal(value)
    if number is None:
        return None
    if field.kind == "percent":
        number *= 100
    return _rounded(number, scale_of(field))


def wire_value(value: float | None, field: FieldInfo) -> Any:
    """JSON-ready value for the field: int / float for numeric kinds, str for text, None to clear."""
    number = crm_number(value, field)
    if number is None:
        return None
    if field.kind == "text":
        text = _plain(number)
        return text[: field.length] if field.length else text
    if field.kind == "integer" or number == number.to_integral_value():
        return int(number)
    return float(number)


def canonical(value: Any, field: FieldInfo) -> str | None:
    """The comparison form of a value already in the CRM's type (sent, in the ledger, or read back)."""
    if value is None or value == "":
        return None
    if field.kind == "text":
        return str(value)
    number = _decimal(value)
    if number is None:
        return str(value)
    return _plain(_rounded(number, scale_of(field)))


def same(a: Any, b: Any, field: FieldInfo) -> bool:
    """Whether two values in the CRM's type mean the same (81.25 == "81.250" on a scale-2 field)."""
    return canonical(a, field) == canonical(b, field)
