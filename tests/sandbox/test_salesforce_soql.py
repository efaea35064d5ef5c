"""SOQL subset: parser, evaluator semantics and Ids, without HTTP (fast, exhaustive rows of cases)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from spm_sync.sandbox.salesforce import ids
from spm_sync.sandbox.salesforce.org import Org
from spm_sync.sandbox.salesforce.query import evaluate, like_to_regex, today_range
from spm_sync.sandbox.salesforce.soql import SoqlError, parse

TODAY = date(2025, 6, 15)


@pytest.fixture(scope="module")
def org() -> Org:
    """Five accounts with known names, industries and stamps (created through the org API)."""
    clock_values = iter(datetime(2025, 1, day, 8, 30, 15, tzinfo=UTC) for day in range(1, 10))
    current = {"now": datetime(2025, 1, 1, tzinfo=UTC)}

    def clock() -> datetime:
        return current["now"]

    made = Org(clock=clock)
    made.create("User", {"LastName": "Admin", "Email": "a@x.io", "Username": "a@x.io"})
    rows = [("Acme", "Tech"), ("acme labs", None), ("Globex", "Energy"), ("O'Neil & Sons", "Retail"),
            ("100% Juice", "Food")]
    for name, industry in rows:
        current["now"] = next(clock_values)
        made.create("Account", {"Name": name, "Industry": industry})
    made.delete("Account", made.ids("Account")[4])
    return made


def names(org: Org, soql: str, include_deleted: bool = False) -> list[str]:
    result = evaluate(parse(soql), org.tables["Account"], include_deleted=include_deleted, today=TODAY)
    return [org.tables["Account"].get(int(r), "Name") for r in result.rows]


@pytest.mark.parametrize(("where", "expected"), [
    ("Name = 'ACME'", ["Acme"]),
    ("Name != 'acme'", ["acme labs", "Globex", "O'Neil & Sons"]),
    ("Name LIKE 'acme%'", ["Acme", "acme labs"]),
    ("Name LIKE '_lobex'", ["Globex"]),
    ("Name LIKE 'O\\'Neil%'", ["O'Neil & Sons"]),
    ("Name IN ('globex', 'Acme')", ["Acme", "Globex"]),
    ("Name NOT IN ('globex', 'Acme')", ["acme labs", "O'Neil & Sons"]),
    ("Industry = null", ["acme labs"]),
    ("Industry != null", ["Acme", "Globex", "O'Neil & Sons"]),
    ("Industry != 'Tech'", ["acme labs", "Globex", "O'Neil & Sons"]),
    ("NOT Name = 'Acme'", ["acme labs", "Globex", "O'Neil & Sons"]),
    ("(Name = 'Acme' OR Name = 'Globex') AND Industry = 'Energy'", ["Globex"]),
    ("Name = 'Acme' OR (Industry = 'Retail' AND Name LIKE 'O%')", ["Acme", "O'Neil & Sons"]),
    ("CreatedDate > 2025-01-03T08:30:15Z", ["O'Neil & Sons"]),
    ("CreatedDate >= 2025-01-03T08:30:15.000Z", ["Globex", "O'Neil & Sons"]),
    ("CreatedDate < 2025-01-02T09:30:15+01:00", ["Acme"]),
    ("CreatedDate <= 2025-01-02T03:30:15-05:00", ["Acme", "acme labs"]),
    ("CreatedDate = LAST_N_DAYS:200", ["Acme", "acme labs", "Globex", "O'Neil & Sons"]),
    ("CreatedDate < YESTERDAY", ["Acme", "acme labs", "Globex", "O'Neil & Sons"]),
    ("IsDeleted = false", ["Acme", "acme labs", "Globex", "O'Neil & Sons"]),
])
def test_where_semantics(org: Org, where: str, expected: list[str]) -> None:
    assert names(org, f"SELECT Id FROM Account WHERE {where}") == expected


def test_query_all_scope_and_ordering(org: Org) -> None:
    assert names(org, "SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True) == ["100% Juice"]
    assert names(org, "SELECT Id FROM Account ORDER BY Industry ASC NULLS LAST, Name DESC") == [
        "Globex", "O'Neil & Sons", "Acme", "acme labs"]
    assert names(org, "SELECT Id FROM Account ORDER BY Industry DESC") == [
        "Acme", "O'Neil & Sons", "Globex", "acme labs"]
    assert names(org, "SELECT Id FROM Account ORDER BY Name LIMIT 2 OFFSET 1") == ["acme labs", "Globex"]
    assert names(org, "SELECT Id FROM Account ORDER BY Id DESC LIMIT 1") == ["O'Neil & Sons"]


def test_id_filters(org: Org) -> None:
    first = org.ids("Account")[0]
    assert names(org, f"SELECT Id FROM Account WHERE Id = '{first}'") == ["Acme"]
    assert names(org, f"SELECT Id FROM Account WHERE Id = '{first[:15]}'") == ["Acme"]
    assert names(org, f"SELECT Id FROM Account WHERE Id != '{ids.make_id('001', 500)}'")[:1] == ["Acme"]
    assert names(org, "SELECT Id FROM Account WHERE OwnerId = '005000000000001AAA'") == []


@pytest.mark.parametrize(("soql", "code", "message"), [
    ("SELECT Id FROM Account WHERE Name = 'x' AND Name = 'y' OR Name = 'z'", "MALFORMED_QUERY",
     "\nSELECT Id FROM Account WHERE Name = 'x' AND Name = 'y' OR Name = 'z'\n"
     "                                                       ^\nERROR at Row:1:Column:56\nunexpected token: 'OR'"),
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY",
     "\nSELECT Id FROM Account WHERE\n                            ^\nERROR at Row:1:Column:29\n"
     "unexpected token: '<EOF>'"),
    ("SELECT Id,\nFoo__c FROM Account", "INVALID_FIELD",
     "\nFoo__c FROM Account\n^\nERROR at Row:2:Column:1\nNo such column 'Foo__c' on entity 'Account'."),
    ("SELECT Id FROM Account WHERE Name = 'bad\\q'", "MALFORMED_QUERY", "Invalid string literal"),
    ("SELECT Id FROM Account WHERE IsDeleted > true", "INVALID_QUERY_FILTER_OPERATOR",
     "invalid operator on boolean field: IsDeleted"),
    ("SELECT Id, Id FROM Account", "INVALID_FIELD", "duplicate field selected: Id"),
    ("SELECT Owner.Name FROM Account", "INVALID_FIELD", "Didn't understand relationship 'Owner' in field path."),
])
def test_errors(org: Org, soql: str, code: str, message: str) -> None:
    with pytest.raises(SoqlError) as err:
        names(org, soql)
    assert err.value.code == code
    assert err.value.message.startswith(message) if message.startswith("\n") else message in err.value.message


def test_string_escapes_and_like_translation() -> None:
    query = parse(r"SELECT Id FROM Account WHERE Name = 'a\'b\\c\nd\u00e9'")
    assert query.where.values[0].value == "a'b\\c\nd\u00e9"  # type: ignore[union-attr]
    assert like_to_regex(r"100\% _x%") == r"100%\ .x.*"


@pytest.mark.parametrize(("word", "n", "expected"), [
    ("today", 0, (date(2025, 6, 15), date(2025, 6, 16))),
    ("last_n_days", 7, (date(2025, 6, 8), date(2025, 6, 16))),
    ("this_month", 0, (date(2025, 6, 1), date(2025, 7, 1))),
    ("last_month", 0, (date(2025, 5, 1), date(2025, 6, 1))),
    ("this_week", 0, (date(2025, 6, 15), date(2025, 6, 22))),
    ("last_year", 0, (date(2024, 1, 1), date(2025, 1, 1))),
])
def test_date_literal_ranges(word: str, n: int, expected: tuple[date, date]) -> None:
    assert today_range(word, n, TODAY) == expected


@pytest.mark.parametrize(("real_id", "suffix"), [
    ("001D000000IRFmaIAH", "IAH"), ("005R0000000UyrWIAS", "IAS"), ("01gD0000002HU6KIAW", "IAW"),
])
def test_checksum_matches_real_ids(real_id: str, suffix: str) -> None:
    assert ids.checksum(real_id[:15]) == suffix


def test_ids_round_trip_and_sort_in_row_order() -> None:
    rows = np.array([0, 1, 61, 62, 3843, 10**6])
    made = ids.make_ids("006", rows).tolist()
    assert made == [ids.make_id("006", int(r)) for r in rows]
    assert made[:2] == ["006Hs0000000001IAA", "006Hs0000000002IAA"]
    assert made == sorted(made)
    assert [ids.parse_id(i) for i in made] == [("006", int(r)) for r in rows]
    assert ids.parse_id(made[0][:15]) == ("006", 0)
    assert ids.parse_id(made[0][:15] + "XXX") is None
