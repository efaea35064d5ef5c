"""Canonical sandbox data set: determinism, scales, invariants, CRM split."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from spm_sync.sandbox.dataset import STAGES, Dataset, generate, resolve_scale

AS_OF = date(2026, 3, 15)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate(seed=7, scale="small", as_of=AS_OF)


@pytest.fixture(scope="module")
def wide() -> Dataset:
    """Enough rows (40 reps, 20k deals) for the distribution checks to be stable."""
    return generate(seed=11, scale=40, as_of=AS_OF)


def _sql(ds: Dataset, query: str) -> list[tuple]:
    con = duckdb.connect()
    for name, table in ds.tables().items():
        con.register(name, table)
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(query).fetchall()


def test_same_seed_same_tables_other_seed_differs(small: Dataset) -> None:
    again = generate(seed=7, scale="small", as_of=AS_OF)
    for name, table in small.tables().items():
        assert table.equals(again.tables()[name]), name
    other = generate(seed=8, scale="small", as_of=AS_OF)
    assert not other.opportunities.equals(small.opportunities)
    assert not other.reps.equals(small.reps)
    later = generate(seed=7, scale="small", as_of=date(2026, 6, 1))
    assert not later.opportunities.equals(small.opportunities)


def test_small_row_counts(small: Dataset) -> None:
    counts = small.counts()
    assert {k: counts[k] for k in ("reps", "accounts", "opportunities", "activities", "leads", "feedback",
                                   "currencies")} == {
        "reps": 10, "accounts": 120, "opportunities": 400, "activities": 1500, "leads": 100, "feedback": 60,
        "currencies": 5,
    }
    active = sum(small.reps["is_active"].to_pylist())
    assert active == 9
    assert counts["quotas"] == active * 24


def test_scales_resolve() -> None:
    large = resolve_scale("large")
    assert (large.reps, large.opportunities, large.activities, large.leads, large.feedback) == (
        2000, 1_000_000, 5_000_000, 200_000, 100_000)
    assert resolve_scale("medium").opportunities == 100_000
    assert resolve_scale(3) == resolve_scale("3")
    assert resolve_scale(3).opportunities == 1500
    for bad in ("huge", 0):
        with pytest.raises(ValueError):
            resolve_scale(bad)


def test_columns_match_contract(small: Dataset) -> None:
    expected = {
        "teams": ["team_id", "name", "parent_team_id"],
        "reps": ["rep_id", "first_name", "last_name", "email", "team_id", "manager_rep_id", "is_active", "title"],
        "accounts": ["account_id", "name", "owner_rep_id", "created_at", "industry"],
        "opportunities": ["opportunity_id", "account_id", "owner_rep_id", "name", "stage", "amount", "currency",
                          "recurring_amount", "deal_type", "created_at", "close_date", "updated_at", "is_deleted",
                          "loss_reason", "won_reason", "lead_source"],
        "stage_events": ["opportunity_id", "stage", "entered_at"],
        "leads": ["lead_id", "owner_rep_id", "first_name", "last_name", "email", "company", "created_at",
                  "status", "is_converted", "converted_at", "lead_source"],
        "activities": ["activity_id", "owner_rep_id", "kind", "subject", "occurred_at", "is_completed",
                       "account_id", "opportunity_id"],
        "feedback": ["feedback_id", "kind", "score", "comment", "submitted_at", "account_id", "rep_id"],
        "quotas": ["rep_id", "period_start", "period_end", "amount"],
        "currencies": ["iso_code", "conversion_rate"],
        "owner_changes": ["opportunity_id", "old_rep_id", "new_rep_id", "changed_at"],
        "opportunity_splits": ["split_id", "opportunity_id", "rep_id", "percentage", "split_type"],
        "team_history": ["rep_id", "team_id", "valid_from", "valid_to"],
        "rep_surveys": ["survey_id", "rep_id", "submitted_at", "score", "topic", "comment"],
        "lead_activities": ["activity_id", "owner_rep_id", "kind", "subject", "occurred_at", "lead_id"],
    }
    assert {name: t.schema.names for name, t in small.tables().items()} == expected
    assert small.opportunities.schema.field("close_date").type == pa.date32()
    assert small.opportunities.schema.field("created_at").type == pa.timestamp("ms", tz="UTC")


def test_org_structure(wide: Dataset) -> None:
    rows = _sql(wide, """
        select r.team_id, count(*), count(*) filter (where r.manager_rep_id is null),
               count(*) filter (where r.title = 'Sales Manager'),
               count(*) filter (where m.team_id is not null and m.team_id <> r.team_id)
        from reps r left join reps m on m.rep_id = r.manager_rep_id group by 1""")
    assert len(rows) >= 4
    for _, size, roots, managers, foreign in rows:
        assert 3 <= size <= 12 and roots == 1 and managers == 1 and foreign == 0
    assert _sql(wide, "select count(*) from teams where parent_team_id is null") == [(1,)]
    assert _sql(wide, "select count(distinct email), count(*) from reps") == [(40, 40)]
    assert _sql(wide, "select count(*) from reps where not is_active") == [(2,)]
    assert _sql(wide, "select count(*) from accounts a join reps r on r.rep_id = a.owner_rep_id "
                      "where not r.is_active") == [(0,)]


def test_stage_walk_is_ordered_and_ends_in_final_stage(wide: Dataset) -> None:
    stage_index = " ".join(f"when '{s}' then {i}" for i, s in enumerate(STAGES))
    bad = _sql(wide, f"""
        with e as (
            select opportunity_id, stage, case stage {stage_index} end as idx, entered_at,
                   row_number() over (partition by opportunity_id order by entered_at) - 1 as pos,
                   lag(entered_at) over (partition by opportunity_id order by entered_at) as prev,
                   count(*) over (partition by opportunity_id) as n
            from stage_events)
        select count(*) filter (where e.idx <> e.pos and not (e.pos = e.n - 1 and e.idx >= 5)
                                and not (o.stage = 'closed_won' and e.n = 5 and e.idx = e.pos + 1)),
               count(*) filter (where e.prev >= e.entered_at),
               count(*) filter (where e.pos = 0 and e.entered_at <> o.created_at),
               count(*) filter (where e.pos = e.n - 1 and e.stage <> o.stage),
               count(*) filter (where e.entered_at > o.updated_at),
               count(*) filter (where e.idx >= 5 and e.entered_at::date <> o.close_date),
               count(*) filter (where o.stage = 'closed_won' and e.n not in (5, 6)),
               count(*) filter (where e.entered_at >= timestamp '2026-03-15')
        from e join opportunities o using (opportunity_id)""")
    assert bad == [(0, 0, 0, 0, 0, 0, 0, 0)]
    assert _sql(wide, "select count(distinct opportunity_id) from stage_events") == [(20_000,)]
    # about 1 in 8 won deals skipped one of qualification, needs analysis, negotiation (never proposal)
    (skipping, missing), = _sql(wide, """
        with won as (
            select o.opportunity_id, list(e.stage) as stages
            from opportunities o join stage_events e using (opportunity_id)
            where o.stage = 'closed_won' group by 1)
        select avg((len(stages) = 5)::int),
               list_distinct(flatten(list([s for s in ['qualification', 'needs_analysis', 'proposal', 'negotiation']
                                           if not list_contains(stages, s)]) filter (where len(stages) = 5)))
        from won""")
    assert 0.09 < skipping < 0.15 and sorted(missing) == ["needs_analysis", "negotiation", "qualification"]


def test_dates_and_closing(wide: Dataset) -> None:
    assert _sql(wide, """
        select min(close_date - created_at::date), max(close_date - created_at::date),
               count(*) filter (where stage like 'closed%' and close_date >= date '2026-03-15'),
               count(*) filter (where updated_at >= timestamp '2026-03-15' or created_at >= updated_at),
               min(created_at)::date >= date '2025-01-01', max(close_date) <= date '2026-12-31'
        from opportunities""") == [(1, 180, 0, 0, True, True)]
    # about 1 in 5 open deals created two weeks or more before as_of slipped past its close date
    (slipped, early, past_due_cycle), = _sql(wide, """
        select avg((close_date < date '2026-03-15')::int) filter (where created_at < timestamp '2026-03-01'),
               count(*) filter (where close_date < date '2026-03-15' and created_at >= timestamp '2026-03-02'),
               min(close_date - created_at::date) filter (where close_date < date '2026-03-15')
        from opportunities where stage not like 'closed%'""")
    assert 0.17 < slipped < 0.23 and early == 0 and past_due_cycle >= 1
    # about 1 in 12 open deals has no amount yet; every closed deal has one
    assert _sql(wide, """
        select avg((amount is null)::int) filter (where stage not like 'closed%') between 0.06 and 0.10,
               count(*) filter (where stage like 'closed%' and amount is null)
        from opportunities""") == [(True, 0)]


def test_win_rate_stages_and_deletions(wide: Dataset) -> None:
    (win_rate, stages, deleted, without_account), = _sql(wide, """
        select count(*) filter (where stage = 'closed_won') / count(*) filter (where stage like 'closed%'),
               count(distinct stage), avg(is_deleted::int), avg((account_id is null)::int)
        from opportunities""")
    assert 0.25 <= win_rate <= 0.35
    assert stages == 7
    assert 0.01 <= deleted <= 0.03 and 0.01 <= without_account <= 0.05


def test_deal_type_follows_account_history(wide: Dataset) -> None:
    assert _sql(wide, """
        with first_win as (
            select account_id, min(close_date) as d from opportunities
            where stage = 'closed_won' and not is_deleted and account_id is not null group by 1)
        select deal_type, (f.d is not null and f.d < o.created_at::date) as existing, count(*)
        from opportunities o left join first_win f using (account_id)
        group by all having (deal_type = 'new') = existing order by all""") == []
    kinds = dict(_sql(wide, "select deal_type, count(*) from opportunities group by 1"))
    assert set(kinds) == {"new", "renewal", "expansion"}
    repeat = _sql(wide, "select count(*) from (select account_id from opportunities where stage = 'closed_won' "
                        "and account_id is not null group by 1 having count(*) >= 3)")
    assert repeat[0][0] > 100


def test_currencies_and_amounts(wide: Dataset) -> None:
    assert _sql(wide, "select conversion_rate from currencies where iso_code = 'USD'") == [(1.0,)]
    assert _sql(wide, "select count(*) from opportunities o anti join currencies c on c.iso_code = o.currency") \
        == [(0,)]
    (usd_share, currencies, negative, recurring_over), = _sql(wide, """
        select avg((currency = 'USD')::int), count(distinct currency), count(*) filter (where amount <= 0),
               count(*) filter (where recurring_amount > amount) from opportunities""")
    assert usd_share > 0.5 and currencies == 5 and negative == 0 and recurring_over == 0
    assert _sql(wide, "select count(*) filter (where recurring_amount > 0) > count(*) / 2 from opportunities") \
        == [(True,)]


def test_quotas_cover_every_month_for_active_reps(wide: Dataset) -> None:
    assert _sql(wide, """
        select count(distinct q.rep_id), count(*) filter (where not r.is_active), min(period_start),
               max(period_end), count(*) filter (where period_end <> period_start + interval 1 month),
               count(*) filter (where amount <= 0), count(distinct (q.rep_id, period_start)) = count(*)
        from quotas q join reps r using (rep_id)""") == [
        (38, 0, date(2025, 1, 1), date(2027, 1, 1), 0, 0, True)]


def test_leads_conversion(wide: Dataset) -> None:
    (bad, converted_share, statuses), = _sql(wide, """
        select count(*) filter (where is_converted <> (converted_at is not null)
                                or converted_at <= created_at or (status = 'converted') <> is_converted
                                or converted_at >= timestamp '2026-03-15'),
               avg(is_converted::int), count(distinct status) from leads""")
    assert bad == 0 and 0.12 <= converted_share <= 0.3 and statuses == 5


def test_activities_spread(wide: Dataset) -> None:
    kinds = dict(_sql(wide, "select kind, count(*) from activities group by 1"))
    assert set(kinds) == {"call", "email", "meeting", "task"}
    (orphans, outside, reps, late), = _sql(wide, """
        select count(*) filter (where a.owner_rep_id is null),
               count(*) filter (where a.occurred_at < o.created_at),
               count(distinct a.owner_rep_id), count(*) filter (where a.occurred_at >= timestamp '2026-03-15')
        from activities a left join opportunities o using (opportunity_id)""")
    assert 0 < orphans < 100 and outside == 0 and reps == 38 and late == 0


def test_feedback_scores(wide: Dataset) -> None:
    ranges = {k: (lo, hi) for k, lo, hi in _sql(wide, "select kind, min(score), max(score) from feedback group by 1")}
    assert ranges == {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    (nps, named, commented), = _sql(wide, """
        select 100 * (avg((score >= 9)::int) filter (where kind = 'nps')
                      - avg((score <= 6)::int) filter (where kind = 'nps')),
               avg((rep_id is not null)::int), avg((comment is not null)::int) from feedback""")
    assert 0 < nps < 40 and 0.3 < named < 0.5 and 0.25 < commented < 0.45


def test_split_partitions_records_by_team_parity(small: Dataset) -> None:
    assert small.for_crm(split=False) == (small, small)
    sf, hs = small.for_crm(split=True)
    shared_tables = ("teams", "reps", "currencies", "team_history", "rep_surveys")
    for shared in shared_tables:
        assert sf.tables()[shared].equals(small.tables()[shared])
        assert hs.tables()[shared].equals(small.tables()[shared])
    for name, table in small.tables().items():
        if name in shared_tables:
            continue
        assert sf.tables()[name].num_rows + hs.tables()[name].num_rows == table.num_rows, name
        assert sf.tables()[name].num_rows > 0 and hs.tables()[name].num_rows > 0, name
    for part, parity in ((sf, 0), (hs, 1)):
        assert _sql(part, f"""
            select count(*) from opportunities o join reps r on r.rep_id = o.owner_rep_id
            left join (select rep_id, arg_min(team_id, valid_from) as first_team from team_history group by 1) h
              using (rep_id)
            where coalesce(h.first_team, r.team_id) % 2 <> {parity}""") == [(0,)]
        assert _sql(part, "select count(*) from opportunities o anti join accounts a using (account_id) "
                          "where o.account_id is not null") == [(0,)]
        assert _sql(part, "select count(*) from stage_events e anti join opportunities o using (opportunity_id)") \
            == [(0,)]
        assert _sql(part, "select count(*) from activities e anti join accounts a using (account_id) "
                          "where e.account_id is not null") == [(0,)]


def test_timestamps_before_as_of(small: Dataset) -> None:
    horizon = datetime(2026, 3, 15)
    for table, column in (("accounts", "created_at"), ("opportunities", "updated_at"), ("leads", "created_at"),
                          ("activities", "occurred_at"), ("feedback", "submitted_at")):
        latest = _sql(small, f"select max({column})::timestamp from {table}")[0][0]
        assert horizon - timedelta(days=60) < latest < horizon, table


def test_reasons_follow_the_outcome_and_surveys_score_0_to_10(small: Dataset) -> None:
    import pyarrow.compute as pc

    opps = small.opportunities
    lost, won = pc.equal(opps["stage"], "closed_lost"), pc.equal(opps["stage"], "closed_won")
    assert pc.all(pc.or_(lost, pc.is_null(opps["loss_reason"]))).as_py()  # only lost deals have one
    assert pc.all(pc.equal(pc.is_valid(opps["won_reason"]), won)).as_py()
    given = pc.sum(pc.is_valid(pc.filter(opps["loss_reason"], lost))).as_py() / pc.sum(lost).as_py()
    assert 0.8 < given < 1.0  # 1 in 10 lost deals gives no reason
    assert opps["lead_source"].null_count == 0
    surveys = small.rep_surveys
    assert surveys.num_rows > 0
    assert (pc.min(surveys["score"]).as_py(), pc.max(surveys["score"]).as_py()) >= (0, 0)
    assert pc.max(surveys["score"]).as_py() <= 10
    assert set(surveys["topic"].to_pylist()) <= {"Tools", "Leads", "Training", "Compensation", "Process"}


def test_lead_activities_follow_their_lead(wide: Dataset) -> None:
    """~3 in 4 leads get one first call or e-mail by their owner after creation and before as_of (new ids)."""
    (n, leads, bad, after), = _sql(wide, """
        select count(*), count(distinct a.lead_id),
               count(*) filter (where a.occurred_at <= l.created_at or a.occurred_at >= timestamp '2026-03-15'
                                or a.owner_rep_id <> l.owner_rep_id or a.kind not in ('call', 'email')),
               min(a.activity_id) > (select max(activity_id) from activities)
        from lead_activities a join leads l using (lead_id)""")
    assert n == leads and bad == 0 and after
    assert 0.65 < leads / wide.leads.num_rows < 0.8
