"""Config checks of a target's metrics, the scaling rule, and the fields that make a record readable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from spm_sync.config import parse_config
from spm_sync.connectors.writing import FieldInfo
from spm_sync.errors import ConfigError
from spm_sync.metrics.definitions import load_catalog, metric_unit
from spm_sync.writeback.model import Slot
from spm_sync.writeback.plan import period_slots, record_values
from spm_sync.writeback.targets import check_metrics, metric_problems
from spm_sync.writeback.values import wire_value

SOURCES = [{"name": "sf", "type": "salesforce", "instance_url": "https://127.0.0.1:1", "session_id": "x"}]


def _config(fields: dict[str, str], **extra: Any) -> Any:
    target = {"name": "sf_reps", "source": "sf", "object": "User", "fields": fields, **extra}
    return parse_config({"sources": SOURCES, "writeback": [target]})


def test_a_misspelled_metric_names_the_target_and_the_closest_metrics() -> None:
    cfg = _config({"quota_atainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c"})
    assert metric_problems(cfg, cfg.writeback) == [
        "writeback target sf_reps: unknown metric 'quota_atainment'; did you mean quota_attainment?"
    ]
    with pytest.raises(ConfigError) as raised:
        check_metrics(cfg, cfg.writeback)
    assert raised.value.exit_code == 2


def test_custom_metrics_from_config_count_as_known() -> None:
    custom = {"name": "big_wins", "type": "simple", "model": "opportunities", "time": "close_date",
              "agg": "count", "filter": "is_won AND amount_rc > 100000"}
    cfg = parse_config({"sources": SOURCES, "metrics": [custom], "writeback": [
        {"name": "sf_reps", "source": "sf", "object": "User", "fields": {"big_wins": "Big_Wins__c"}}]})
    assert metric_problems(cfg, cfg.writeback) == []


def test_record_fields_belong_to_upsert_targets() -> None:
    with pytest.raises(ConfigError, match="name_field and lookup_field belong to mode upsert"):
        _config({"quota": "Quota__c"}, name_field="Name")


@pytest.mark.parametrize(
    ("metric", "unit"),
    [("quota_attainment", "ratio"), ("win_rate", "ratio"), ("revenue_won", "currency"), ("avg_deal_size", "currency"),
     ("calls", "count"), ("attainment_rank_in_team", "count"), ("pipeline_coverage", "number"),
     ("sales_cycle_days", "number"), ("nps", "number")],
)
def test_metric_units(metric: str, unit: str) -> None:
    by_name = {m.name: m for m in load_catalog().visible}
    assert metric_unit(by_name[metric]) == unit


def test_one_scaling_rule_shows_the_same_figure_in_both_crms() -> None:
    salesforce_percent = FieldInfo("Quota_Attainment__c", "percent", "percent", scale=2)
    hubspot_percentage = FieldInfo("spm_quota_attainment", "percent", "number")  # numberDisplayHint percentage
    hubspot_currency = FieldInfo("spm_revenue_won", "number", "number", scale=2)
    assert wire_value(0.402174, salesforce_percent) == 40.22
    assert wire_value(0.402174, hubspot_percentage) == 40.22
    assert wire_value(125000.456, hubspot_currency) == 125000.46


def test_period_slots_one_per_record() -> None:
    info = FieldInfo("Period__c", "text", "string", length=20)
    slots = [Slot("rep1", "2026-03", "quota", "Quota__c", "005A", 1.0, "k1"),
             Slot("rep1", "2026-03", "calls", "Calls__c", "005A", 3, "k1"),
             Slot("rep2", "2026-03", "calls", "Calls__c", "005B", 4, "k1")]
    assert period_slots(slots, info, "2026-03") == [
        Slot("rep1", "2026-03", "period", "Period__c", "005A", "2026-03", "k1"),
        Slot("rep2", "2026-03", "period", "Period__c", "005B", "2026-03", "k1"),
    ]
    assert period_slots(slots, None, "2026-03") == []


def test_record_values_name_lookup_and_time() -> None:
    roles = {
        "name": FieldInfo("Name", "text", "string", length=80),
        "lookup": FieldInfo("Rep__c", "reference", "reference"),
        "period": FieldInfo("Period__c", "text", "string", length=20),
        "computed_at": FieldInfo("Computed_At__c", "datetime", "datetime"),
    }
    computed = datetime(2026, 3, 15, 6, 30, 5, 250000, tzinfo=UTC)
    assert record_values(roles, "FY2026-Q1", "Jane Doe", "005Hs00000001AAA", computed) == {
        "Name": "Jane Doe — FY2026-Q1",
        "Rep__c": "005Hs00000001AAA",
        "Computed_At__c": "2026-03-15T06:30:05.250Z",
    }
    day = {"computed_at": FieldInfo("spm_computed_on", "date", "date")}
    assert record_values(day, "2026-03", "x", None, computed) == {"spm_computed_on": "2026-03-15"}
    short = {"name": FieldInfo("Name", "text", "string", length=10)}
    assert record_values(short, "FY2026-Q1", "Jane Doe", None, None) == {"Name": "Jane Doe —"}


def test_check_reports_the_misspelled_metric_even_when_the_crm_is_unreachable() -> None:
    from spm_sync.writeback import validate_targets

    source = {**SOURCES[0], "max_retries": 0, "timeout_s": 2}
    cfg = parse_config({"sources": [source], "writeback": [
        {"name": "sf_reps", "source": "sf", "object": "User", "fields": {"win_rte": "Win_Rate__c"}}]})
    problems = validate_targets(cfg)
    assert problems[0] == "writeback target sf_reps: unknown metric 'win_rte'; did you mean win_rate, win_rate_value?"
    assert len(problems) == 2 and problems[1].startswith("writeback target sf_reps: ")
