"""What a new ops engineer gets for bad input: exit code 2, one line naming the problem, and nothing
recorded or alerted (a typo on the command line is not a failed run)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from spm_sync import jobs
from spm_sync.cli import main, window_end
from spm_sync.config import Config, load_config
from spm_sync.errors import ConfigError
from spm_sync.metrics.calendar import check_period_id
from spm_sync.ops.check import run_checks
from spm_sync.store import open_store
from tests.ops.test_alerts import Receiver


@pytest.fixture
def receiver() -> Receiver:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def config_path(tmp_path: Path, receiver: Receiver) -> Path:
    """A config whose failure alerts go to `receiver`; its sources are never reached by these tests."""
    document = {
        "sources": [
            {"name": "erp", "type": "files"},
            {"name": "sf", "type": "salesforce", "instance_url": "https://127.0.0.1:9", "session_id": "x"},
        ],
        "writeback": [{"name": "sf_reps", "source": "sf", "object": "User", "fields": {"revenue_won": "R__c"}}],
        "alerts": {"webhooks": [receiver.url]},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The console entry point in-process: its exit code (raised or returned, as `sys.exit(main())`) and stderr."""
    try:
        code = main(list(args))
    except SystemExit as exited:
        code = exited.code
    return int(code or 0), capsys.readouterr().err


SF_OBJECTS = (
    "User, UserRole, Account, Opportunity, OpportunityHistory, OpportunityFieldHistory, Lead, Task, Event, "
    "ForecastingQuota, CurrencyType, DatedConversionRate, Period, FiscalYearSettings, OpportunitySplit, "
    "OpportunitySplitType, NPS_Response__c, Rep_Survey__c"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sync", "--objects", "Opportunity,Nope"],
         "error: --objects: unknown object(s) Nope (known: erp: quotas, activity_targets, teams, accounts, "
         f"opportunities, rep_feedback; sf: {SF_OBJECTS})"),
        (["sync", "--objects", ","], "error: --objects names no object (give e.g. --objects Opportunity,User)"),
        (["kpis", "--period", "2026-13"],
         "error: not a period: '2026-13' (use a month 2026-03, a fiscal quarter FY2026-Q1, a fiscal year FY2026, "
         "or current_month, current_quarter, current_year)"),
        (["kpis", "--metric", "nope,quota"], "error: unknown metric(s) nope (see `spm-sync list metrics`)"),
        (["kpis", "--entity-type", "region"], "error: unknown entity type 'region' (use one of rep, team, company)"),
        (["backfill", "--source", "erp", "--from", "2026-03-01", "--to", "2026-01-01"],
         "error: empty backfill window: --from 2026-03-01 00:00 is after --to 2026-01-01 (inclusive)"),
        (["backfill", "--source", "erp", "--from", "2026-01-01", "--objects", "Opportunity"],
         "error: --objects: unknown object(s) Opportunity (known: erp: quotas, activity_targets, teams, accounts, "
         "opportunities, rep_feedback)"),
        (["writeback", "--target", "nosuch"], "error: unknown writeback target(s) nosuch (known: sf_reps)"),
        (["--log-level", "LOUD", "status"],
         "Invalid value for '--log-level': Value error, 'LOUD' is not one of 'debug', 'info', 'warning', 'error'."),
        (["backfill", "--source", "erp", "--from", "2026-01-01", "--to", "2026-02-30"],
         "Invalid value for --to: expected a date (2026-01-31) or a date and time, got '2026-02-30'"),
    ],
)
def test_usage_error_exits_2_is_no_run_and_no_alert(
    config_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = cli(capsys, "--config", str(config_path), *args)
    assert code == 2
    assert message in err
    store = config_path.parent / "state" / "spm_sync.duckdb"
    if store.exists():
        with open_store(load_config(config_path)) as opened:
            assert opened.fetchall("SELECT job, status FROM spm_state.runs") == []
    assert receiver.attempts == 0


def test_a_run_failure_still_records_and_alerts(
    config_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counterpart: a source whose export is missing is a failed run, recorded and alerted (exit 2: the
    fix is in the config or the file); the relative path is read against the config's folder."""
    broken = yaml.safe_load(config_path.read_text())
    broken["sources"][0]["quotas"] = "missing.csv"
    config_path.write_text(yaml.safe_dump(broken))
    code, err = cli(capsys, "--config", str(config_path), "sync", "--source", "erp")
    assert code == 2
    assert err.splitlines()[-1] == f"error: {config_path.parent / 'missing.csv'}: quotas: no such file"
    with open_store(load_config(config_path)) as store:
        assert store.fetchall("SELECT job, subject, status FROM spm_state.runs") == [("sync", "erp", "failed")]
    assert receiver.attempts == 1


def test_check_names_every_missing_variable_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SF_URL", raising=False)
    monkeypatch.delenv("SF_SID", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(
        "sources:\n  - name: sf\n    type: salesforce\n    instance_url: ${SF_URL}\n    session_id: ${SF_SID}\n"
        "    api_version: ${SF_VERSION:-62.0}\n"
    )
    [result] = run_checks(path)
    assert (result.ok, result.usage) == (False, True)
    assert result.detail == (
        f"{path}: environment variables not set: SF_URL (at sources[0].instance_url), "
        "SF_SID (at sources[0].session_id)"
    )
    code, out = cli(capsys, "--config", str(path), "check")
    assert code == 2


@pytest.mark.parametrize("period", ["2026-03", "2026-12", "FY2026", "FY2026-Q4", "current_quarter"])
def test_period_ids_pass(period: str) -> None:
    check_period_id(period)


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "FY2026-Q5", "2026-Q1", "fy2026", "march"])
def test_impossible_periods_are_refused(period: str) -> None:
    with pytest.raises(ConfigError, match=f"not a period: '{period}'"):
        check_period_id(period)


NOW = datetime(2026, 12, 2, 14, 6)


@pytest.mark.parametrize(
    ("text", "end"),
    [
        (None, NOW),
        ("2026-01-31", datetime(2026, 2, 1)),  # the whole last day is in the window
        ("2026-01-31T12:30:00", datetime(2026, 1, 31, 12, 30)),
        ("2026-01-31T12:30:00+01:00", datetime(2026, 1, 31, 11, 30)),
    ],
)
def test_backfill_to_includes_its_last_day(text: str | None, end: datetime) -> None:
    assert window_end(text, NOW) == end


def test_sync_objects_runs_only_the_sources_that_have_them(fake_cfg: Config) -> None:
    cfg = fake_cfg.model_copy(update={"sources": [
        *fake_cfg.sources,
        *Config.model_validate({"sources": [{"name": "hs", "type": "hubspot", "access_token": "x"}]}).sources,
    ]})
    assert jobs.sources_with_objects(cfg, ["erp", "hs"], ["Deals"]) == ["hs"]
    assert jobs.sources_with_objects(cfg, ["erp", "hs"], ["quotas", "owners"]) == ["erp", "hs"]
    assert jobs.sources_with_objects(cfg, ["erp", "hs"], None) == ["erp", "hs"]
