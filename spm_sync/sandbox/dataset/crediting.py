"""What makes crediting hard, seeded: owner changes, revenue splits and reps moving team.

Why a step of its own: these draws come after every other table (their own random streams), so the
rest of the data set is unchanged by them; and they are the ground truth the crediting tests and the
demo compute the expected leaderboard from (owner at close, split shares, team on the credited date).

- ~4 % of closed deals are reassigned after their close day (a colleague of the same team takes them
  over: the rep who closed keeps the credit); ~4 % of deals change owner while still being worked
  (the new owner holds it at close). `opportunities.owner_rep_id` is always the CURRENT owner.
- ~10 % of the other deals (neither reassigned nor deleted) carry a two-way `Revenue` split between
  their owner and a second rep (half the time of another team). Splits and reassignments never meet
  on one deal, so the truth is unambiguous (how a CRM moves split rows with an owner is its business).
- ~5 % of the active reps (never a manager) moved team during the year: `reps.team_id` is the team
  they are in now, `team_history` has [valid_from, valid_to) rows for the team before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.dataset.clock import DAY_MS, HOUR_MS, Window, day_number, uniform_ms
from spm_sync.sandbox.dataset.deals import Deals
from spm_sync.sandbox.dataset.model import LOST, WON
from spm_sync.sandbox.dataset.people import Org

REASSIGNED_AFTER_CLOSE = 0.04
REASSIGNED_WHILE_OPEN = 0.04
SPLIT_SHARE = 0.10
MOVER_SHARE = 0.05
SPLIT_PERCENTAGES = np.array([50.0, 60.0, 70.0, 75.0])  # the owner's share; the second rep gets the rest
REVENUE = "Revenue"


@dataclass(frozen=True)
class Crediting:
    """The current-owner opportunities table and the crediting tables."""

    opportunities: pa.Table
    reps: pa.Table
    owner_changes: pa.Table  # opportunity_id, old_rep_id, new_rep_id, changed_at
    opportunity_splits: pa.Table  # split_id, opportunity_id, rep_id, percentage, split_type
    team_history: pa.Table  # rep_id, team_id, valid_from, valid_to (exclusive, null = open)


def _colleague(rng: np.random.Generator, org: Org, rep: np.ndarray, same_team: np.ndarray) -> np.ndarray:
    """Another active rep (of the same team where `same_team`); the rep itself when none was drawn."""

    def draw(reps: np.ndarray, same: np.ndarray) -> np.ndarray:
        return np.where(same, org.same_team(rng, reps), org.pick_active(rng, len(reps)))

    out = draw(rep, same_team)
    for _ in range(8):  # redraw clashes; a one-rep team keeps its rep (the caller drops those)
        clash = np.flatnonzero(out == rep)
        if not len(clash):
            break
        out[clash] = draw(rep[clash], same_team[clash])
    return out


def _owner_changes(rng: np.random.Generator, org: Org, deals: Deals, window: Window, final: np.ndarray,
                   close_day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(deal indexes, new owners, change instants) of the reassigned deals, by deal index."""
    n = len(final)
    closed = (final == WON) | (final == LOST)
    draw = rng.random(n)
    after_close = closed & ~deals.deleted & (close_day + 1 < window.as_of_day) & (draw < REASSIGNED_AFTER_CLOSE)
    # While open: a change before the close day (or before today for open deals), at least a day after creation.
    until = np.minimum(np.where(closed, close_day.astype(np.int64) * DAY_MS, window.horizon_ms), window.horizon_ms)
    room = until - deals.created_ms > 2 * DAY_MS
    while_open = ~after_close & room & (draw >= REASSIGNED_AFTER_CLOSE) & (
        draw < REASSIGNED_AFTER_CLOSE + REASSIGNED_WHILE_OPEN)
    late = np.flatnonzero(after_close)
    early = np.flatnonzero(while_open)
    late_at = uniform_ms(rng, (close_day[late].astype(np.int64) + 1) * DAY_MS + 8 * HOUR_MS, window.horizon_ms,
                         len(late))
    early_at = uniform_ms(rng, deals.created_ms[early] + DAY_MS, until[early] - HOUR_MS, len(early))
    idx = np.concatenate([late, early])
    at = np.concatenate([late_at, early_at])
    new_owner = _colleague(rng, org, deals.owner[idx], np.ones(len(idx), dtype=bool))
    moved = new_owner != deals.owner[idx]
    order = np.argsort(idx[moved], kind="stable")
    return idx[moved][order], new_owner[moved][order], at[moved][order]


def _splits(rng: np.random.Generator, org: Org, deals: Deals, excluded: np.ndarray) -> pa.Table:
    """Two-way Revenue splits on ~10 % of the deals not in `excluded` (owner first, then the partner)."""
    n = len(deals.owner)
    eligible = ~deals.deleted & ~excluded
    chosen = np.flatnonzero(eligible & (rng.random(n) < SPLIT_SHARE))
    partner = _colleague(rng, org, deals.owner[chosen], rng.random(len(chosen)) < 0.5)
    keep = partner != deals.owner[chosen]
    chosen, partner = chosen[keep], partner[keep]
    share = SPLIT_PERCENTAGES[rng.integers(0, len(SPLIT_PERCENTAGES), len(chosen))]
    opp = np.repeat(chosen + 1, 2)
    rep = np.column_stack([deals.owner[chosen], partner]).ravel() + 1
    pct = np.column_stack([share, 100.0 - share]).ravel()
    return pa.table({
        "split_id": pa.array(np.arange(1, len(opp) + 1), pa.int64()),
        "opportunity_id": pa.array(opp, pa.int64()),
        "rep_id": pa.array(rep, pa.int64()),
        "percentage": pa.array(pct, pa.float64()),
        "split_type": pa.array([REVENUE] * len(opp), pa.string()),
    })


def _team_moves(rng: np.random.Generator, org: Org, reps: pa.Table, window: Window) -> tuple[pa.Table, pa.Table]:
    """Reps table with movers in their new team (and its manager), and the membership history."""
    n = len(org.rep_team)
    managers = pc.is_null(reps["manager_rep_id"]).to_numpy(zero_copy_only=False)
    candidates = np.flatnonzero(org.active & ~managers)
    teams = np.unique(org.rep_team)
    count = min(len(candidates), max(1, round(MOVER_SHARE * n))) if n >= 8 and len(teams) > 1 else 0
    movers = np.sort(rng.choice(candidates, size=count, replace=False)) if count else np.empty(0, np.int64)
    first_day = day_number(window.as_of.replace(month=1, day=1)) - 180
    move_day = rng.integers(first_day, window.as_of_day, len(movers)) if len(movers) else np.empty(0, np.int64)
    team = org.rep_team.copy()
    manager = pc.fill_null(reps["manager_rep_id"], 0).to_numpy().astype(np.int64)
    team_manager = {int(org.rep_team[i]): i + 1 for i in np.flatnonzero(managers)}
    for rep in movers:
        others = teams[teams != org.rep_team[rep]]
        team[rep] = others[int(rng.integers(0, len(others)))]
        manager[rep] = team_manager.get(int(team[rep]), manager[rep])
    reps = reps.set_column(reps.schema.get_field_index("team_id"), "team_id", pa.array(team, pa.int64()))
    reps = reps.set_column(reps.schema.get_field_index("manager_rep_id"), "manager_rep_id",
                           pa.array(manager, pa.int64(), mask=managers))
    start = np.datetime64(window.as_of.replace(year=window.as_of.year - 1, month=1, day=1), "D")
    days = move_day.astype("timedelta64[D]") + np.datetime64("1970-01-01", "D")
    history = pa.table({
        "rep_id": pa.array(np.concatenate([movers, movers]) + 1, pa.int64()),
        "team_id": pa.array(np.concatenate([org.rep_team[movers], team[movers]]), pa.int64()),
        "valid_from": pa.array(np.concatenate([np.full(len(movers), start), days]), pa.date32()),
        "valid_to": pa.array(np.concatenate([days, np.full(len(movers), start)]), pa.date32(),
                             mask=np.concatenate([np.zeros(len(movers), bool), np.ones(len(movers), bool)])),
    })
    return reps, history.sort_by([("rep_id", "ascending"), ("valid_from", "ascending")])


def build_crediting(rng: np.random.Generator, org: Org, reps: pa.Table, deals: Deals, window: Window) -> Crediting:
    """Reassign, split and move (see the module docstring); deals' other columns stay as drawn."""
    opps = deals.opportunities
    stage_codes = {"closed_won": WON, "closed_lost": LOST}
    final = np.array([stage_codes.get(s, 0) for s in opps["stage"].to_pylist()], dtype=np.int64)
    close_day = opps["close_date"].cast(pa.int32()).to_numpy().astype(np.int64)
    idx, new_owner, at = _owner_changes(rng, org, deals, window, final, close_day)
    owner = deals.owner.copy()
    owner[idx] = new_owner
    updated = opps["updated_at"].cast(pa.int64()).to_numpy().copy()
    updated[idx] = np.maximum(updated[idx], at)
    opps = opps.set_column(opps.schema.get_field_index("owner_rep_id"), "owner_rep_id",
                           pa.array(owner + 1, pa.int64()))
    opps = opps.set_column(opps.schema.get_field_index("updated_at"), "updated_at",
                           pa.array(updated, pa.timestamp("ms", tz="UTC")))
    changes = pa.table({
        "opportunity_id": pa.array(idx + 1, pa.int64()),
        "old_rep_id": pa.array(deals.owner[idx] + 1, pa.int64()),
        "new_rep_id": pa.array(new_owner + 1, pa.int64()),
        "changed_at": pa.array(at, pa.timestamp("ms", tz="UTC")),
    })
    reassigned = np.zeros(len(owner), dtype=bool)
    reassigned[idx] = True
    splits = _splits(rng, org, deals, reassigned)
    moved_reps, history = _team_moves(rng, org, reps, window)
    return Crediting(opps, moved_reps, changes, splits, history)
