"""KPI values in the CRM field's type, and the canonical form the ledger and read-back compare."""

from __future__ import annotations

from typing import Any

import pytest

from spm_sync.connectors.writing import FieldInfo
from spm_sync.writeback.values import canonical, same, wire_value

PERCENT_2 = FieldInfo("Quota_Attainment__c", "percent", "percent", scale=2)
CURRENCY_2 = FieldInfo("Revenue_Won__c", "number", "currency", scale=2)
DOUBLE_0 = FieldInfo("Calls__c", "number", "double", scale=0)
INTEGER = FieldInfo("Deals__c", "integer", "int")
NUMBER = FieldInfo("spm_revenue_won", "number", "number")
TEXT_5 = FieldInfo("Note__c", "text", "string", length=5)
TEXT = FieldInfo("Note__c", "text", "string", length=255)


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        (0.8125, PERCENT_2, 81.25),
        (0.81256, PERCENT_2, 81.26),
        (1.0, PERCENT_2, 100),
        (0.1, PERCENT_2, 10),
        (12345.678, CURRENCY_2, 12345.68),
        (0.005, CURRENCY_2, 0.01),
        (-2.5, DOUBLE_0, -3),
        (41.5, DOUBLE_0, 42),
        (7.4999, INTEGER, 7),
        (0.8125, NUMBER, 0.8125),
        (1 / 3, NUMBER, 0.333333),
        (0.8125, TEXT, "0.8125"),
        (1 / 3, TEXT, "0.3333"),
        (12.0, TEXT, "12"),
        (123456.75, TEXT_5, "12345"),
        (None, PERCENT_2, None),
        (float("nan"), CURRENCY_2, None),
    ],
)
def test_wire_value(value: float | None, field: FieldInfo, expected: Any) -> None:
    got = wire_value(value, field)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("a", "b", "field", "equal"),
    [
        (81.25, "81.250", PERCENT_2, True),
        (81.25, 81.2500001, PERCENT_2, True),
        (81.25, 81.26, PERCENT_2, False),
        (42, "42.0", DOUBLE_0, True),
        ("0.8125", 0.8125, NUMBER, True),
        (None, "", NUMBER, True),
        (None, 0, NUMBER, False),
        ("12", "12.0", TEXT, False),
    ],
)
def test_same(a: Any, b: Any, field: FieldInfo, equal: bool) -> None:
    assert same(a, b, field) is equal


def test_canonical_never_uses_exponent_notation() -> None:
    assert canonical(1e20, NUMBER) == "100000000000000000000"
    assert canonical(100.0, CURRENCY_2) == "100"
    assert canonical(-0.0, CURRENCY_2) == "0"
