"""Why deals were lost or won, where they came from, and the team's own survey answers.

Drawn from their own random stream, after the deals, so adding them shifts no other table's draws.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.dataset import text
from spm_sync.sandbox.dataset.clock import DAY_MS, Window
from spm_sync.sandbox.dataset.people import Org

LOSS_REASONS = ("Price", "Competitor", "No decision", "Timing", "Product fit")
LOSS_SHARES = (0.3, 0.25, 0.2, 0.15, 0.1)
WON_REASONS = ("Product fit", "Price", "Relationship", "Support")
LEAD_SOURCES = ("Web", "Referral", "Partner", "Outbound", "Event")
LEAD_SHARES = (0.35, 0.2, 0.15, 0.2, 0.1)
SURVEY_TOPICS = ("Tools", "Leads", "Training", "Compensation", "Process")
SURVEY_DAYS = 91  # one pulse survey a quarter


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
