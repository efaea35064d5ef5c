"""Property-based file inputs: any quotas export either fails with exit 2 and one line naming its file,
line and column, or loads exactly the rows an independent reading of the rules keeps; nothing stored
is lost either way.

Cells are drawn from pools of good and hostile values (non-finite numbers, negatives, unknown or
lower-case currencies, `NA`/`NULL`, unreadable dates and emails, reversed periods), on few owners and
periods so that exact and conflicting duplicates happen often. Seeded (derandomized) and bounded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spm_sync.config import Config, parse_config
from spm_sync.connectors.files.settings import EXPORTS_BY_NAME
from spm_sync.connectors.files.source import CURRENCIES, read_export
from spm_sync.errors import ConfigError
from spm_sync.extract import sync_source
from spm_sync.runs import Run
from spm_sync.store import Store, open_store
from tests.reliability.tally import TALLY

QUOTAS = EXPORTS_BY_NAME["quotas"]
SETTINGS = settings(derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass(frozen=True)
class Cell:
    text: str
    bad: bool = False  # cannot be read: the whole file is refused (exit 2)


# amount: (text, value or None when the row is rejected for it, readable?)
AMOUNTS = [("1000", 1000.0), ("2500.5", 2500.5), ("0", 0.0), ("1e3", 1000.0), ("inf", None), ("-inf", None),
           ("1e400", None), ("nan", None), ("NaN", None), ("-5", None)]
BAD_AMOUNTS = ["abc", "NA", "NULL", "1,000", ""]
CURRENCY_CELLS = ["USD", "usd", "EUR", " eur ", "", "XYZ", "us", "GBP"]
EMAILS = ["ada@example.com", "ADA@example.com", "grace@example.com", "nobody@example.com"]
BAD_EMAILS = ["not-an-email", "@example.com"]
PERIODS = [("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-01-01", "2026-03-31")]
BAD_PERIODS = [("2026-02-30", "2026-03-31"), ("2026-03-01", "2026-02-01"), ("2026/01/01", "2026-01-31"),
               ("", "2026-01-31")]


@st.composite
def rows(draw: st.DrawFn, unreadable: bool = False) -> dict[str, Cell]:
    hostile = unreadable or draw(st.integers(0, 19)) == 0  # else about one row in 20 carries an unreadable cell
    column = draw(st.sampled_from(["amount", "rep_email", "period"])) if hostile else None
    amount = draw(st.sampled_from(BAD_AMOUNTS)) if column == "amount" else draw(st.sampled_from(AMOUNTS))[0]
    email = draw(st.sampled_from(BAD_EMAILS)) if column == "rep_email" else draw(st.sampled_from(EMAILS))
    start, end = draw(st.sampled_from(BAD_PERIODS if column == "period" else PERIODS))
    return {
        "rep_email": Cell(email, column == "rep_email"),
        "period_start": Cell(start, column == "period" and start in ("2026-02-30", "2026/01/01", "")),
        "period_end": Cell(end, column == "period" and (start, end) == ("2026-03-01", "2026-02-01")),
        "amount": Cell(amount, column == "amount"),
        "currency": Cell(draw(st.sampled_from(CURRENCY_CELLS))),
    }


def csv_text(table: list[dict[str, Cell]]) -> str:
    header = ["rep_email", "period_start", "period_end", "amount", "currency"]
    return "\n".join([",".join(header)] + [",".join(row[c].text for c in header) for row in table]) + "\n"


def expected(table: list[dict[str, Cell]], default: str = "USD") -> tuple[list[tuple], dict[int, str]]:
    """What the rules keep (rep_email, start, end, amount, currency, line) and reject (line -> column),
    worked out here without the connector's code."""
    values = dict(AMOUNTS)
    kept: list[tuple] = []
    rejected: dict[int, str] = {}
    for line, row in enumerate(table, start=2):
        amount = float(row["amount"].text)
        currency = row["currency"].text.strip().upper() or default
        if not math.isfinite(amount) or values[row["amount"].text] is None:
            rejected[line] = "amount"
        elif currency not in CURRENCIES:
            rejected[line] = "currency"
        else:
            kept.append((row["rep_email"].text, row["period_start"].text, row["period_end"].text, amount, currency,
                         line))
    unique: dict[tuple, tuple] = {}
    for item in kept:  # exact copies (emails compared case-insensitively) are one row: the first
        unique.setdefault((item[0].lower(), *item[1:5]), item)
    by_key: dict[tuple, list[tuple]] = {}
    for item in unique.values():
        by_key.setdefault((item[0].lower(), item[1], item[2]), []).append(item)
    out = []
    for items in by_key.values():
        if len(items) > 1:  # same rep x period, different amount or currency: all of them rejected
            differing = "/".join(name for name, at in (("amount", 3), ("currency", 4))
                                 if len({item[at] for item in items}) > 1)
            rejected.update({item[5]: differing for item in items})
        else:
            out.append(items[0])
    return sorted(out, key=lambda i: i[5]), rejected


@SETTINGS
@given(table=st.lists(rows(), min_size=0, max_size=12))
def test_any_quotas_file_is_refused_with_its_place_or_loaded_by_the_rules(
    tmp_path_factory: pytest.TempPathFactory, table: list[dict[str, Cell]]
) -> None:
    path = tmp_path_factory.mktemp("files") / "quotas.csv"
    path.write_text(csv_text(table))
    TALLY.add("bad_inputs", sum(1 for row in table if any(c.bad for c in row.values())
                                or row["amount"].text in ("inf", "-inf", "1e400", "nan", "NaN", "-5")
                                or row["currency"].text.strip().upper() not in CURRENCIES | {""}))
    unreadable = {(line, column.replace("period_start", "period").replace("period_end", "period"))
                  for line, row in enumerate(table, start=2) for column, cell in row.items() if cell.bad}
    try:
        screened = read_export(path, QUOTAS)
    except ConfigError as exc:
        message = str(exc)
        assert exc.exit_code == 2 and "\n" not in message
        line, column = message.removeprefix(f"{path}: line ").split(": ")[:2]
        if "values but the header names" in column:  # `1,000` unquoted: a row of 6 values
            assert (int(line), "amount") in unreadable, message
            return
        named = (int(line), column.replace("period_start", "period").replace("period_end", "period"))
        assert named in unreadable, message
        return
    assert not unreadable
    keep, rejected = expected(table)
    got = [(r["rep_email"], r["period_start"].isoformat(), r["period_end"].isoformat(), r["amount"], r["currency"],
            r["source_line"]) for r in screened.rows.to_pylist()]
    assert got == keep
    assert {r.index + 2: r.column for r in screened.rejections} == rejected
    for message in screened.messages():
        assert message.startswith(f"{path}: ") and "\n" not in message


# --- through dlt: a refused file never touches what is stored -------------------------------------


def config(tmp_path: Path, quotas: Path, allow_empty: list[str] | None = None) -> Config:
    return parse_config({
        "store": {"path": str(tmp_path / "state" / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
        "sources": [{"name": "erp", "type": "files", "quotas": str(quotas), "allow_empty": allow_empty or []}],
    }, env={})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, Store, Path, list[tuple]]]:
    tmp_path = tmp_path_factory.mktemp("stored")
    path = tmp_path / "quotas.csv"
    path.write_text("rep_email,period_start,period_end,amount,currency\n"
                    "ada@example.com,2026-01-01,2026-01-31,1000,USD\n"
                    "grace@example.com,2026-01-01,2026-01-31,2000,EUR\n")
    cfg = config(tmp_path, path)
    with open_store(cfg) as store:
        sync_source(cfg, store, "erp", run=Run(job="sync"))
        yield cfg, store, path, stored(store)


def stored(store: Store) -> list[tuple]:
    return store.fetchall("SELECT rep_email, amount, currency FROM raw_erp.quotas ORDER BY ALL")


@settings(derandomize=True, deadline=None, database=None, max_examples=12,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=st.one_of(st.just([]), st.tuples(st.lists(rows(), max_size=3), rows(unreadable=True),
                                              st.lists(rows(), max_size=3)).map(lambda p: [*p[0], p[1], *p[2]])))
def test_a_refused_file_keeps_the_stored_rows(loaded: tuple[Config, Store, Path, list[tuple]],
                                              table: list[dict[str, Cell]]) -> None:
    """A header-only file, or one with an unreadable cell somewhere (readable files replace the stored
    rows: the test above and test_inputs_rules cover them)."""
    cfg, store, path, before = loaded
    path.write_text(csv_text(table))
    TALLY.add("bad_inputs", 1)
    with pytest.raises(ConfigError) as caught:
        sync_source(cfg, store, "erp", run=Run(job="sync"))
    assert "\n" not in str(caught.value) and str(caught.value).startswith(f"{path}: line ")
    if not table:
        assert "--allow-empty" in str(caught.value)
    assert stored(store) == before
    TALLY.add("rows_lost", len(before) - len(stored(store)))


def test_allow_empty_lets_a_header_only_file_clear_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text("rep_email,period_start,period_end,amount,currency\nada@example.com,2026-01-01,2026-01-31,1,USD\n")
    with open_store(config(tmp_path, path)) as store:
        sync_source(config(tmp_path, path), store, "erp", run=Run(job="sync"))
        path.write_text("rep_email,period_start,period_end,amount,currency\n")
        with pytest.raises(ConfigError) as caught:
            sync_source(config(tmp_path, path), store, "erp", run=Run(job="sync"))
        assert str(caught.value) == (
            f"{path}: line 2: no data rows (header only): loading it would delete the stored quotas; if that is "
            "meant, run `spm-sync sync --allow-empty` or add quotas to allow_empty of source erp"
        )
        assert stored(store) == [("ada@example.com", 1.0, "USD")]
        sync_source(config(tmp_path, path, ["quotas"]), store, "erp", run=Run(job="sync"))
        assert stored(store) == []
        path.write_text("rep_email,period_start,period_end,amount,currency\nada@example.com,2026-01-01,2026-01-31,1,USD\n")
        sync_source(config(tmp_path, path), store, "erp", run=Run(job="sync"))
        path.write_text("rep_email,period_start,period_end,amount,currency\n")
        sync_source(config(tmp_path, path), store, "erp", run=Run(job="sync"), allow_empty=True)
        assert stored(store) == []
    TALLY.add("bad_inputs", 3)


def test_na_null_and_nan_are_text_where_text_is_meant(tmp_path: Path) -> None:
    teams = tmp_path / "teams.csv"
    teams.write_text('team,rep_email,parent_team\nNA,ada@example.com,NULL\n"NaN",,\n')
    screened = read_export(teams, EXPORTS_BY_NAME["teams"])
    assert [(r["team"], r["rep_email"], r["parent_team"]) for r in screened.rows.to_pylist()] == [
        ("NA", "ada@example.com", "NULL"), ("NaN", None, None),
    ]
    TALLY.add("bad_inputs", 3)


def test_an_unquoted_comma_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "quotas.csv"
    path.write_text("rep_email,period_start,period_end,amount,currency\n"
                    "ada@example.com,2026-01-01,2026-01-31,1000,USD\n"
                    "grace@example.com,2026-01-01,2026-01-31,1,000,USD\n")
    with pytest.raises(ConfigError) as caught:
        read_export(path, QUOTAS)
    assert str(caught.value) == (
        f"{path}: line 3: 6 values but the header names 5 columns (quote a value that holds a comma)"
    )
    TALLY.add("bad_inputs", 1)
