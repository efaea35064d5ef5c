"""The files connector: CSV / Parquet exports checked, typed and loaded with dlt (replace)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spm_sync.config import Config
from spm_sync.connectors.files.settings import EXPORTS_BY_NAME
from spm_sync.connectors.files.source import read_export
from spm_sync.errors import ConfigError
from spm_sync.extract import sync_source
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.store import open_store

QUOTAS = """\
rep_email,period_start,period_end,amount,currency
ada@example.com,2026-01-01,2026-03-31,30000,
grace@example.com, 2026-01-01 ,2026-01-31,900.5,EUR
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_is_typed_and_empty_currency_gets_the_default(tmp_path):
    table = read_export(_write(tmp_path, "quotas.csv", QUOTAS), EXPORTS_BY_NAME["quotas"], "GBP").rows
    assert table.schema.field("period_start").type == pa.date32()
    assert table.schema.field("amount").type == pa.float64()
    assert table.to_pylist() == [
        {"rep_email": "ada@example.com", "period_start": date(2026, 1, 1), "period_end": date(2026, 3, 31),
         "amount": 30000.0, "currency": "GBP", "team": None, "measure": None, "source_line": 2},
        {"rep_email": "grace@example.com", "period_start": date(2026, 1, 1), "period_end": date(2026, 1, 31),
         "amount": 900.5, "currency": "EUR", "team": None, "measure": None, "source_line": 3},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (QUOTAS + "x@example.com,2026-02-01,2026-02-28,abc,USD\n", "quotas.csv: line 4: amount: not a number 'abc'"),
        (QUOTAS + "x@example.com,2026-02-30,2026-03-31,1,USD\n",
         "quotas.csv: line 4: period_start: not a date (YYYY-MM-DD) '2026-02-30'"),
        (QUOTAS + "x@example.com,2026-02-01,2026-01-01,1,USD\n", "quotas.csv: line 4: period_end: before period_start"),
        (QUOTAS + "x@example.com,2026-02-01,,1,USD\n", "quotas.csv: line 4: period_end: required"),
        (QUOTAS + "not-an-email,2026-02-01,2026-02-28,1,USD\n",
         "quotas.csv: line 4: rep_email: not an email address 'not-an-email'"),
        (QUOTAS + ",2026-02-01,2026-02-28,1,USD\n", "quotas.csv: line 4: rep_email / team: one of these is required"),
        ("rep_email,period_start,amount\n", "quotas.csv: header: missing column(s) period_end"),
    ],
)
def test_bad_rows_name_file_line_and_column(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "quotas.csv", text)
    with pytest.raises(ConfigError) as caught:
        read_export(Path("quotas.csv"), EXPORTS_BY_NAME["quotas"])
    assert str(caught.value) == message


def test_parquet_and_timestamps(tmp_path):
    path = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({"ID": ["A1", "A2"], "Name": ["Acme", None],
                             "created_at": ["2026-01-02T10:00:00+02:00", "2026-01-03"]}), path)
    table = read_export(path, EXPORTS_BY_NAME["accounts"]).rows
    assert table.to_pylist() == [  # Parquet has no lines: the row number stands in for one
        {"id": "A1", "name": "Acme", "created_at": datetime(2026, 1, 2, 8, tzinfo=UTC), "owner_email": None,
         "source_line": 1},
        {"id": "A2", "name": None, "created_at": datetime(2026, 1, 3, tzinfo=UTC), "owner_email": None,
         "source_line": 2},
    ]


def test_sync_then_normalize_loads_quotas_with_an_exclusive_end(tmp_path):
    teams = _write(tmp_path, "teams.csv", "Team,Rep Email,Parent Team\nNorth,ada@example.com,\n")
    targets = _write(tmp_path, "targets.csv",
                     "team,period_start,period_end,kind,target\nNorth,2026-01-01,2026-01-31,calls,120\n")
    cfg = Config.model_validate({
        "store": {"path": str(tmp_path / "state" / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
        "sources": [{"name": "erp", "type": "files", "quotas": str(_write(tmp_path, "quotas.csv", QUOTAS)),
                     "teams": str(teams), "activity_targets": str(targets)}],
    })
    with open_store(cfg) as store:
        result = sync_source(cfg, store, "erp", run=Run(job="sync"))
        assert result.records == {
            "quotas": 2, "teams": 1, "activity_targets": 1,
            "rejected_quotas": 0, "rejected_teams": 0, "rejected_activity_targets": 0,
        }
        normalize(cfg, store, Run(job="normalize"))
        assert store.fetchall("SELECT * FROM spm.activity_targets") == [
            ("erp:North", "erp", date(2026, 1, 1), date(2026, 2, 1), "call", 120.0),
        ]
        assert store.fetchall("SELECT * FROM spm.teams") == [("erp:North", "North", None)]
        # No CRM knows these people: listed in the quality report, not silently dropped.
        assert store.fetchall(
            "SELECT record_id, detail FROM spm_state.quality WHERE object = 'quota' ORDER BY 1"
        ) == [
            (f"{tmp_path / 'quotas.csv'}: line 2", "owner: not a known rep or team of any source 'ada@example.com'"),
            (f"{tmp_path / 'quotas.csv'}: line 3",
             "owner: not a known rep or team of any source 'grace@example.com'"),
        ]
        # A re-sync replaces the raw table (replace disposition), it does not append.
        _write(tmp_path, "quotas.csv", QUOTAS.splitlines()[0] + "\nada@example.com,2026-04-01,2026-06-30,1,USD\n")
        sync_source(cfg, store, "erp", run=Run(job="sync"))
        assert store.fetchall("SELECT count(*) FROM raw_erp.quotas") == [(1,)]
