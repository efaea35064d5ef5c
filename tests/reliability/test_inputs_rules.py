"""Bad input rows: every rule of the files source with exact values, from sync through write-back.

A Salesforce sandbox gives the reps (User only); an ERP files source gives their quotas and won deals.
Rep A's quota is `inf`, rep B's currency is `usd`, rep C's quota row is there twice, and a fourth row
names someone who is no rep. Expected, by hand: A's row rejected (line 2, amount), B's accepted as USD,
C's counted once, the stranger's rejected (line 6, owner); attainment B = 15,000 / 20,000 = 0.75,
C = 4,000 / 10,000 = 0.4, A has no quota; write-back sends B's and C's attainment (75 and 40, a percent
field) and every revenue, and holds back A's attainment and the company's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from spm_sync.config import Config, parse_config
from spm_sync.extract import sync_source
from spm_sync.metrics import compute_kpis
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.sandbox import Sandbox
from spm_sync.sandbox.dataset import generate
from spm_sync.store import Store, open_store
from spm_sync.writeback import write_back
from tests.reliability.tally import TALLY

AS_OF = date(2026, 3, 15)
FIELDS = {"quota_attainment": "Quota_Attainment__c", "revenue_won": "Revenue_Won__c"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(dataset=generate(seed=7, scale="small", as_of=AS_OF)) as sb:
        yield sb


def reps(sb: Sandbox) -> list[tuple[str, str]]:
    """(User Id, email) of the first three users."""
    org = sb.salesforce.org
    return [(i, str(org.get("User", i)["Email"])) for i in org.ids("User")[:3]]


def config(tmp_path: Path, sb: Sandbox, on_rejected: str = "skip", **files: Path) -> Config:
    sf = sb.salesforce
    return parse_config(
        {
            "store": {"path": str(tmp_path / "state" / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
            "as_of": AS_OF.isoformat(),
            "sources": [
                {"name": "sf", "type": "salesforce", "instance_url": sf.instance_url, "session_id": sf.session_id,
                 "ca_bundle": sf.ca_bundle, "max_retries": 1},
                {"name": "erp", "type": "files", **{k: str(v) for k, v in files.items()}},
            ],
            "writeback": [{"name": "users", "source": "sf", "object": "User", "entity": "rep",
                           "period": "2026-03", "fields": FIELDS, "on_rejected_inputs": on_rejected}],
        },
        env={},
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def inputs(tmp_path: Path, emails: list[str]) -> dict[str, Path]:
    a, b, c = emails
    quotas = write(tmp_path, "quotas.csv", f"""rep_email,period_start,period_end,amount,currency
{a},2026-03-01,2026-03-31,inf,USD
{b},2026-03-01,2026-03-31,20000,usd
{c},2026-03-01,2026-03-31,10000,USD
{c.upper()},2026-03-01,2026-03-31,10000,USD
nobody@example.com,2026-03-01,2026-03-31,5000,USD
""")
    deals = write(tmp_path, "deals.csv", f"""id,owner_email,stage,amount,currency,close_date
D1,{a},won,8000,USD,2026-03-10
D2,{b},won,15000,USD,2026-03-05
D3,{c},won,4000,USD,2026-03-02
""")
    return {"quotas": quotas, "opportunities": deals}


def run_all(cfg: Config, store: Store) -> tuple[Any, Any]:
    sync_source(cfg, store, "sf", run=Run(job="sync"), objects=["User"])
    synced = sync_source(cfg, store, "erp", run=Run(job="sync"))
    normalize(cfg, store, Run(job="normalize"))
    compute_kpis(cfg, store, Run(job="kpis"))
    return synced, write_back(cfg, store, Run(job="writeback"))


def kpi(store: Store, entity: str, metric: str, period: str = "2026-03") -> float | None:
    row = store.fetchone(
        "SELECT value FROM spm.kpi_values WHERE entity_id = ? AND metric = ? AND period = ?", [entity, metric, period]
    )
    return None if row is None else row[0]


def test_rejected_quota_is_reported_and_its_attainment_held_back(tmp_path: Path, sandbox: Sandbox) -> None:
    (a_id, a), (b_id, b), (c_id, c) = reps(sandbox)
    files = inputs(tmp_path, [a, b, c])
    cfg = config(tmp_path, sandbox, **files)
    before = {i: sandbox.salesforce.org.get("User", i)["Quota_Attainment__c"] for i in (a_id, b_id, c_id)}
    with open_store(cfg) as store:
        synced, written = run_all(cfg, store)
        TALLY.add("bad_inputs", 3)  # inf, usd (accepted), a stranger; plus the exact copy below

        quotas = str(files["quotas"])
        assert synced.warnings == [
            f"{quotas}: line 2: amount: not a finite number 'inf' (row rejected)",
            f"{quotas}: 1 exact duplicate row(s) counted once",
        ]
        assert store.fetchall("SELECT owner, amount_rc FROM spm.quotas ORDER BY owner") == [
            (f"sf:{b_id}", 20000.0), (f"sf:{c_id}", 10000.0),
        ]
        assert store.fetchall(
            "SELECT source, check_name, object, record_id, detail FROM spm_state.quality WHERE object = 'quota' "
            "ORDER BY record_id"
        ) == [
            ("erp", "not_finite", "quota", f"{quotas}: line 2", "amount: not a finite number 'inf'"),
            ("erp", "unknown_owner", "quota", f"{quotas}: line 6",
             "owner: not a known rep or team of any source 'nobody@example.com'"),
        ]
        assert kpi(store, f"sf:{a_id}", "quota") == 0.0  # as for a rep without a quota row
        assert kpi(store, f"sf:{a_id}", "quota_attainment") is None
        assert kpi(store, f"sf:{b_id}", "quota_attainment") == pytest.approx(0.75)
        assert kpi(store, f"sf:{c_id}", "quota_attainment") == pytest.approx(0.4)
        assert kpi(store, "company", "quota") == pytest.approx(30000.0)
        # A's row marks A, A's team and the company (the stranger's row only the company), in March,
        # Q1 and FY2026 (the periods overlapping the row)
        team = store.fetchone("SELECT team_id FROM spm.reps WHERE rep_id = ?", [f"sf:{a_id}"])[0]
        assert team is not None
        flagged = store.fetchall(
            "SELECT entity_type, entity_id, period, rejected_rows FROM spm.kpi_flags "
            "WHERE metric = 'quota_attainment' ORDER BY entity_type, period"
        )
        assert flagged == [
            ("company", "company", "2026-03", 2), ("company", "company", "FY2026", 2),
            ("company", "company", "FY2026-Q1", 2),
            ("rep", f"sf:{a_id}", "2026-03", 1), ("rep", f"sf:{a_id}", "FY2026", 1),
            ("rep", f"sf:{a_id}", "FY2026-Q1", 1),
            ("team", team, "2026-03", 1), ("team", team, "FY2026", 1), ("team", team, "FY2026-Q1", 1),
        ]
        assert not store.fetchall(
            "SELECT * FROM spm.kpi_flags WHERE metric = 'revenue_won' OR entity_id IN (?, ?)",
            [f"sf:{b_id}", f"sf:{c_id}"],
        )

    report = written.reports[0]
    assert [(h.entity_id, h.metric, h.reason) for h in report.held_back] == [
        (f"sf:{a_id}", "quota_attainment", "computed without 1 rejected quotas row(s)"),
    ]
    org = sandbox.salesforce.org
    assert org.get("User", a_id)["Quota_Attainment__c"] == before[a_id]  # not touched
    assert org.get("User", b_id)["Quota_Attainment__c"] == 75.0
    assert org.get("User", c_id)["Quota_Attainment__c"] == 40.0
    assert [org.get("User", i)["Revenue_Won__c"] for i in (a_id, b_id, c_id)] == [8000.0, 15000.0, 4000.0]


def test_send_overrides_the_hold_back(tmp_path: Path, sandbox: Sandbox) -> None:
    (a_id, a), (b_id, b), (c_id, c) = reps(sandbox)
    cfg = config(tmp_path, sandbox, on_rejected="send", **inputs(tmp_path, [a, b, c]))
    with open_store(cfg) as store:
        _, written = run_all(cfg, store)
        sent = store.fetchall(
            "SELECT entity_id, value_sent FROM spm_state.writeback_ledger WHERE metric = 'quota_attainment' "
            "AND entity_id = ?", [f"sf:{a_id}"],
        )
    report = written.reports[0]
    assert report.held_back == [] and report.sent_flagged == 1
    assert sent == [(f"sf:{a_id}", None)]  # A has no quota: its attainment is null, sent as such


def test_a_fixed_file_clears_the_rejection(tmp_path: Path, sandbox: Sandbox) -> None:
    (a_id, a), (b_id, b), (c_id, c) = reps(sandbox)
    files = inputs(tmp_path, [a, b, c])
    cfg = config(tmp_path, sandbox, **files)
    with open_store(cfg) as store:
        run_all(cfg, store)
        write(tmp_path, "quotas.csv", f"rep_email,period_start,period_end,amount,currency\n"
                                      f"{a},2026-03-01,2026-03-31,16000,USD\n")
        _, written = run_all(cfg, store)
        assert store.fetchall("SELECT count(*) FROM spm.rejected_inputs") == [(0,)]
        assert store.fetchall("SELECT count(*) FROM spm.kpi_flags") == [(0,)]
        assert kpi(store, f"sf:{a_id}", "quota_attainment") == pytest.approx(0.5)
    assert written.reports[0].held_back == []
    assert sandbox.salesforce.org.get("User", a_id)["Quota_Attainment__c"] == 50.0


def test_crm_quotas_follow_the_same_rules_and_inf_never_reaches_kpis(tmp_path: Path) -> None:
    """Salesforce ForecastingQuota rows as a raw table: an infinite quota, a negative one, one in a
    currency without a rate, two copies of one, and two that disagree. Hand-computed: only Ada's
    February quota (5,000, counted once) survives; kpis runs and its company quota is 5,000."""
    from spm_sync.ops.status import rejected_inputs
    from tests.normalize.rawdata import SF_QUOTA, SF_USER, raw_table

    source = {"name": "sf", "type": "salesforce", "instance_url": "https://x.example", "session_id": "x"}
    cfg = parse_config({"store": {"path": str(tmp_path / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
                        "as_of": AS_OF.isoformat(), "sources": [source]}, env={})
    t0 = "2026-01-01 00:00:00+00"
    with open_store(cfg) as store:
        raw_table(store, "raw_sf", "user", SF_USER, [
            ("0051", "Ada", None, None, "ada@example.com", None, None, True, t0),
            ("0052", "Grace", None, None, "grace@example.com", None, None, True, t0),
        ])
        raw_table(store, "raw_sf", "forecasting_quota", SF_QUOTA, [
            ("Q1", "0051", float("inf"), date(2026, 1, 1), True, "USD"),
            ("Q2", "0052", -500.0, date(2026, 1, 1), True, "USD"),
            ("Q3", "0051", 5000.0, date(2026, 2, 1), True, "USD"),
            ("Q4", "0051", 5000.0, date(2026, 2, 1), True, "USD"),
            ("Q5", "0052", 7000.0, date(2026, 2, 1), True, "CHF"),
            ("Q6", "0052", 3000.0, date(2026, 3, 1), True, "USD"),
            ("Q7", "0052", 4000.0, date(2026, 3, 1), True, "USD"),
        ])
        normalize(cfg, store, Run(job="normalize"))
        compute_kpis(cfg, store, Run(job="kpis"))
        assert store.fetchall("SELECT owner, period_start, amount_rc FROM spm.quotas") == [
            ("sf:0051", date(2026, 2, 1), 5000.0),
        ]
        assert store.fetchall(
            "SELECT origin, check_name, column_name, value FROM spm.rejected_inputs ORDER BY origin"
        ) == [
            ("ForecastingQuota Q1", "not_finite", "amount", "inf"),
            ("ForecastingQuota Q2", "negative", "amount", "-500.0"),
            ("ForecastingQuota Q5", "no_rate", "currency", "CHF"),
            ("ForecastingQuota Q6", "conflicting_duplicate", "amount", "3000.0"),
            ("ForecastingQuota Q7", "conflicting_duplicate", "amount", "4000.0"),
        ]
        assert kpi(store, "company", "quota", "FY2026-Q1") == 5000.0
        assert kpi(store, "sf:0051", "quota_attainment", "2026-02") == 0.0
        status = rejected_inputs(store)
        assert status["rows"] == {"quotas": 5}
        # Ada: 2026-01, FY2026-Q1, FY2026; Grace: 2026-01..03, Q1, FY2026; the company: the same five;
        # 13 entity x periods x 4 metrics read from quotas (quota, quota_attainment, pipeline_coverage,
        # attainment_rank_in_team)
        assert status["kpis_flagged"] == 52
    TALLY.add("bad_inputs", 5)
