"""Why deals were lost or won, where deals and leads came from, slipped deals, and the team's survey answers.

Each is drawn from its own random stream, after the deals, so adding them shifts no other table's draws.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.dataset import text
from spm_sync.sandbox.dataset.clock import DAY_MS, Window
from spm_sync.sandbox.dataset.model import OPEN_STAGES, STAGES
from spm_sync.sandbox.dataset.people import Org

LOSS_REASONS = ("Price", "Competitor", "No decision", "Timing", "Product fit")
LOSS_SHARES = (0.3, 0.25, 0.2, 0.15, 0.1)
WON_REASONS = ("Product fit", "Price", "Relationship", "Support")
LEAD_SOURCES = ("Web", "Referral", "Partner", "Outbound", "Event")
LEAD_SHARES = (0.35, 0.2, 0.15, 0.2, 0.1)
SURVEY_TOPICS = ("Tools", "Leads", "Training", "Compensation", "Process")
SURVEY_DAYS = 91  # one pulse survey a quarter
PAST_DUE_SHARE = 0.2  # of the open deals old enough to have slipped
NO_AMOUNT_SHARE = 0.08  # of the open deals: no amount entered yet
SKIP_SHARE = 0.12  # of the won deals: one funnel stage never entered
SKIPPABLE = ("qualification", "needs_analysis", "negotiation")
TOUCHED_LEADS = 0.75  # leads a rep called or e-mailed about (Salesforce Task.WhoId)


def with_reasons(rng: np.random.Generator, opportunities: pa.Table) -> pa.Table:
    """Lost deals get a loss reason (1 in 10 none), won deals a win reason, every deal a lead source."""
    n = opportunities.num_rows
    stage = np.asarray(opportunities["stage"].to_pylist(), dtype=object)
    lost, won = stage == "closed_lost", stage == "closed_won"
    loss = rng.choice(len(LOSS_REASONS), size=n, p=LOSS_SHARES)
    win = rng.integers(0, len(WON_REASONS), n)
    source = rng.choice(len(LEAD_SOURCES), size=n, p=LEAD_SHARES)
    given = rng.random(n) >= 0.1
    none = pa.scalar(None, pa.string())
    return (
        opportunities.append_column(
            "loss_reason", pc.if_else(pa.array(lost & given), text.take(LOSS_REASONS, loss), none)
        )
        .append_column("won_reason", pc.if_else(pa.array(won), text.take(WON_REASONS, win), none))
        .append_column("lead_source", text.take(LEAD_SOURCES, source))
    )


def with_lead_sources(rng: np.random.Generator, leads: pa.Table) -> pa.Table:
    """Every lead gets a lead source, drawn like the deals' (Salesforce `Lead.LeadSource`)."""
    source = rng.choice(len(LEAD_SOURCES), size=leads.num_rows, p=LEAD_SHARES)
    return leads.append_column("lead_source", text.take(LEAD_SOURCES, source))


def with_hygiene_gaps(rng: np.random.Generator, opportunities: pa.Table, window: Window) -> pa.Table:
    """About 1 in 5 open deals created two weeks or more before as_of slipped: still open, with a close
    date already passed (a day after creation at the earliest, the day before as_of at the latest); about
    1 in 12 open deals has no amount yet. So the pipeline hygiene KPIs have something to find."""
    n = opportunities.num_rows
    is_open = pc.is_in(opportunities["stage"], value_set=pa.array(OPEN_STAGES)).to_numpy(zero_copy_only=False)
    created_day = opportunities["created_at"].to_numpy(zero_copy_only=False).astype("datetime64[D]").astype(np.int64)
    close_day = opportunities["close_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]").astype(np.int64)
    first, last = created_day + 1, window.as_of_day - 1
    slipped = is_open & (created_day <= window.as_of_day - 14) & (rng.random(n) < PAST_DUE_SHARE)
    moved = first + np.floor(rng.random(n) * (last - first + 1)).astype(np.int64)
    close_day = np.where(slipped, moved, close_day)
    index = opportunities.schema.get_field_index("close_date")
    slipped_deals = opportunities.set_column(index, "close_date", pa.array(close_day.astype(np.int32), pa.date32()))
    no_amount = is_open & (rng.random(n) < NO_AMOUNT_SHARE)
    index = opportunities.schema.get_field_index("amount")
    amount = pc.if_else(pa.array(no_amount), pa.scalar(None, pa.float64()), opportunities["amount"])
    return slipped_deals.set_column(index, "amount", amount)


def without_skipped_stages(rng: np.random.Generator, stage_events: pa.Table, opportunities: pa.Table) -> pa.Table:
    """About 1 in 8 won deals never entered one of qualification, needs analysis or negotiation (the
    entry is dropped), so stage_skip_share has something to find; the proposal entry always stays."""
    is_won = pc.equal(opportunities["stage"], "closed_won").to_numpy(zero_copy_only=False)
    won = opportunities["opportunity_id"].to_numpy()[is_won]
    skipping = won[rng.random(len(won)) < SKIP_SHARE]
    skipped = np.array([STAGES.index(s) for s in SKIPPABLE])[rng.integers(0, len(SKIPPABLE), len(skipping))]
    index = pc.index_in(stage_events["stage"], value_set=pa.array(STAGES)).to_numpy(zero_copy_only=False)
    keys = stage_events["opportunity_id"].to_numpy() * len(STAGES) + index.astype(np.int64)
    return stage_events.filter(pa.array(~np.isin(keys, skipping * len(STAGES) + skipped)))


def build_lead_activities(rng: np.random.Generator, leads: pa.Table, window: Window, first_id: int) -> pa.Table:
    """A first call or e-mail about ~3 in 4 leads by their owner, ~2 days (exponential) after creation and
    before as_of; ids go on from `first_id` (after the activities'). Salesforce serves them as Tasks whose
    WhoId is the lead."""
    created = leads["created_at"].to_numpy(zero_copy_only=False).astype("datetime64[ms]").astype(np.int64)
    at = created + (rng.exponential(2 * DAY_MS, len(created)) + DAY_MS // 24).astype(np.int64)
    touched = (rng.random(len(created)) < TOUCHED_LEADS) & (at < window.horizon_ms)
    n = int(touched.sum())
    kind = np.where(rng.random(n) < 0.6, "call", "email")
    return pa.table({
        "activity_id": pa.array(np.arange(first_id, first_id + n), pa.int64()),
        "owner_rep_id": leads["owner_rep_id"].filter(pa.array(touched)),
        "kind": pa.array(kind, pa.string()),
        "subject": pa.array(np.where(kind == "call", "Intro call", "Intro e-mail"), pa.string()),
        "occurred_at": pa.array(at[touched], pa.timestamp("ms", tz="UTC")),
        "lead_id": leads["lead_id"].filter(pa.array(touched)),
    })


def build_rep_surveys(rng: np.random.Generator, org: Org, window: Window) -> pa.Table:
    """Each quarter, ~70% of the active reps answer: a 0-10 score (skewed to 7-9), one topic, a comment."""
    starts = np.arange(window.start_ms, window.horizon_ms - SURVEY_DAYS * DAY_MS // 2, SURVEY_DAYS * DAY_MS)
    reps = np.tile(org.active_idx, len(starts))
    when = np.repeat(starts, len(org.active_idx))
    answered = rng.random(len(reps)) < 0.7
    reps, when = reps[answered], when[answered]
    n = len(reps)
    submitted = when + (rng.random(n) * 14 * DAY_MS).astype(np.int64)
    score = np.clip(np.round(rng.normal(7.4, 1.9, n)), 0, 10).astype(np.int64)
    topic = rng.integers(0, len(SURVEY_TOPICS), n)
    return pa.table({
        "survey_id": pa.array(np.arange(1, n + 1), pa.int64()),
        "rep_id": pa.array(reps + 1, pa.int64()),
        "submitted_at": pa.array(submitted, pa.timestamp("ms", tz="UTC")),
        "score": pa.array(score, pa.int64()),
        "topic": text.take(SURVEY_TOPICS, topic),
        "comment": text.take(("More time with prospects", "Better lead quality", "Fewer admin steps",
                              "Clearer targets", "Good quarter"), rng.integers(0, 5, n)),
    })
