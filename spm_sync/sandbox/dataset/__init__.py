"""Seeded, CRM-neutral sales data set for the sandbox emulators (see docs/CONTRACTS.md).

Why: tests, demos and benchmarks need the same realistic data at 10 or 2,000 reps, reproducible
from (seed, scale, as_of) and fast enough to build 1M opportunities in seconds.

    ds = generate(seed=7, scale="small", as_of=date(2026, 3, 15))
    salesforce_part, hubspot_part = ds.for_crm(split=True)
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from spm_sync.sandbox.dataset.clock import DAY_MS, Window
from spm_sync.sandbox.dataset.crediting import build_crediting
from spm_sync.sandbox.dataset.deals import build_accounts, build_deals
from spm_sync.sandbox.dataset.engagement import build_activities, build_feedback, build_leads
from spm_sync.sandbox.dataset.model import (
    ACTIVITY_KINDS,
    CORPORATE_CURRENCY,
    DEAL_TYPES,
    FEEDBACK_KINDS,
    LEAD_STATUSES,
    OPEN_STAGES,
    STAGES,
    Dataset,
)
from spm_sync.sandbox.dataset.people import build_org
from spm_sync.sandbox.dataset.plan import currencies_table, quotas_table
from spm_sync.sandbox.dataset.practices import (
    build_lead_activities,
    build_rep_surveys,
    with_hygiene_gaps,
    with_lead_sources,
    with_reasons,
    without_skipped_stages,
)

__all__ = [
    "ACTIVITY_KINDS", "CORPORATE_CURRENCY", "DEAL_TYPES", "FEEDBACK_KINDS", "LEAD_STATUSES", "OPEN_STAGES",
    "STAGES", "Dataset", "ScaleSpec", "generate", "generate_timed", "resolve_scale",
]


@dataclass(frozen=True)
class ScaleSpec:
    """Row counts a scale stands for."""

    name: str
    reps: int
    accounts: int
    opportunities: int
    activities: int
    leads: int
    feedback: int

    @classmethod
    def per_rep(cls, name: str, reps: int, accounts: int, opportunities: int, activities: int, leads: int,
                feedback: int) -> ScaleSpec:
        return cls(name, reps, reps * accounts, reps * opportunities, reps * activities, reps * leads,
                   reps * feedback)


# large: 2,000 reps / 1M opportunities / 5M activities / 200k leads / 100k feedback
_LARGE_PER_REP = {"accounts": 125, "opportunities": 500, "activities": 2500, "leads": 100, "feedback": 50}
_SMALL_PER_REP = {"accounts": 12, "opportunities": 40, "activities": 150, "leads": 10, "feedback": 6}


def resolve_scale(scale: str | int) -> ScaleSpec:
    """small (10 reps), medium (200), large (2,000), or a rep count with large's proportions."""
    if isinstance(scale, str) and scale.strip().isdigit():
        scale = int(scale)
    if isinstance(scale, int):
        if scale < 1:
            raise ValueError(f"scale must be at least 1 rep, got {scale}")
        return ScaleSpec.per_rep(str(scale), scale, **_LARGE_PER_REP)
    named = {
        "small": ScaleSpec.per_rep("small", 10, **_SMALL_PER_REP),
        "medium": ScaleSpec.per_rep("medium", 200, **_LARGE_PER_REP),
        "large": ScaleSpec.per_rep("large", 2000, **_LARGE_PER_REP),
    }
    if scale not in named:
        raise ValueError(f"unknown scale {scale!r}: use small, medium, large or a number of reps")
    return named[scale]


def _rng(seed: int, spec: ScaleSpec, as_of: date | None, part: str) -> np.random.Generator:
    """An independent stream per table, so one table's draws never shift another's; `as_of=None` for
    a table that must not change from day to day."""
    key = [seed, spec.reps, *([as_of.toordinal()] if as_of else []), zlib.crc32(part.encode())]
    return np.random.default_rng(np.random.SeedSequence(key))


class _Stopwatch:
    """Seconds spent per step (the benchmark reports rows/s per table)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = now - self._last
        self._last = now


def generate_timed(seed: int = 7, scale: str | int = "small",
                   as_of: date | None = None) -> tuple[Dataset, dict[str, float]]:
    """`generate`, plus the seconds each step took (org, accounts, deals, leads, ...)."""
    spec = resolve_scale(scale)
    as_of = as_of or datetime.now(UTC).date()
    window = Window(as_of)
    clock = _Stopwatch()
    org = build_org(_rng(seed, spec, None, "org"), spec.reps)  # people and teams stay: configs name them
    clock.lap("org")
    accounts = build_accounts(_rng(seed, spec, as_of, "accounts"), org, spec.accounts, window)
    clock.lap("accounts")
    deals = build_deals(_rng(seed, spec, as_of, "deals"), org, accounts, spec.opportunities, window)
    clock.lap("deals")
    leads = build_leads(_rng(seed, spec, as_of, "leads"), org, spec.leads, window)
    clock.lap("leads")
    activities = build_activities(_rng(seed, spec, as_of, "activities"), accounts, deals, spec.activities, window)
    clock.lap("activities")
    feedback = build_feedback(_rng(seed, spec, as_of, "feedback"), org, accounts, deals, spec.feedback, window)
    clock.lap("feedback")
    months_elapsed = max(1.0, (window.horizon_ms - window.start_ms) / (30.44 * DAY_MS))
    per_rep_month = deals.won_amount_rc / months_elapsed / max(1, len(org.active_idx))
    quotas = quotas_table(_rng(seed, spec, as_of, "quotas"), org.active_idx, as_of, per_rep_month)
    clock.lap("quotas")
    credit = build_crediting(_rng(seed, spec, as_of, "crediting"), org, org.reps, deals, window)
    clock.lap("crediting")
    opportunities = with_reasons(_rng(seed, spec, as_of, "reasons"), credit.opportunities)
    opportunities = with_hygiene_gaps(_rng(seed, spec, as_of, "past_due"), opportunities, window)
    leads = with_lead_sources(_rng(seed, spec, as_of, "lead_sources"), leads)
    stage_events = without_skipped_stages(_rng(seed, spec, as_of, "skipped_stages"), deals.stage_events, opportunities)
    lead_activities = build_lead_activities(_rng(seed, spec, as_of, "lead_activities"), leads, window,
                                            activities.num_rows + 1)
    rep_surveys = build_rep_surveys(_rng(seed, spec, as_of, "rep_surveys"), org, window)
    clock.lap("practices")
    dataset = Dataset(
        seed=seed, scale=spec.name, as_of=as_of, teams=org.teams, reps=credit.reps, accounts=accounts.table,
        opportunities=opportunities, stage_events=stage_events, leads=leads, activities=activities,
        feedback=feedback, quotas=quotas, currencies=currencies_table(), owner_changes=credit.owner_changes,
        opportunity_splits=credit.opportunity_splits, team_history=credit.team_history, rep_surveys=rep_surveys,
        lead_activities=lead_activities,
    )
    return dataset, clock.seconds


def generate(seed: int = 7, scale: str | int = "small", as_of: date | None = None) -> Dataset:
    """Build the data set; identical for the same (seed, scale, as_of). as_of defaults to today (UTC)."""
    return generate_timed(seed, scale, as_of)[0]
