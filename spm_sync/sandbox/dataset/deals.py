"""Accounts, opportunities and their stage history.

Why: the KPIs (win rate, cycle, new vs existing revenue, proposals sent, pipeline) are only
testable on deals whose history is coherent: created before close, stages walked in order,
deal_type following the account's earlier wins. Everything is vectorised over numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.dataset import text
from spm_sync.sandbox.dataset.clock import DAY_MS, HOUR_MS, Window
from spm_sync.sandbox.dataset.model import DEAL_TYPES, LOST, STAGES, WON
from spm_sync.sandbox.dataset.people import Org
from spm_sync.sandbox.dataset.plan import CODES, RATES, SHARES

NO_WIN = np.iinfo(np.int64).max
LOST_REACHED_P = np.array([0.30, 0.25, 0.20, 0.15, 0.10])  # last open stage before a loss


@dataclass(frozen=True)
class Accounts:
    table: pa.Table
    owner: np.ndarray  # rep index
    created_ms: np.ndarray
    currency: np.ndarray  # index into CODES


@dataclass(frozen=True)
class Deals:
    """Opportunity tables plus the arrays activities and feedback hang off."""

    opportunities: pa.Table
    stage_events: pa.Table
    owner: np.ndarray  # rep index
    account: np.ndarray  # account index, -1 without account
    created_ms: np.ndarray
    until_ms: np.ndarray  # close instant for closed deals, horizon for open ones
    deleted: np.ndarray
    first_win_ms: np.ndarray  # per account: close instant of its first win, NO_WIN if none
    won_amount_rc: float  # total won, not deleted, in the corporate currency


def build_accounts(rng: np.random.Generator, org: Org, n: int, window: Window) -> Accounts:
    """Accounts owned by active reps, created mostly early in the window, each with one currency."""
    created = np.sort(window.start_ms + (rng.random(n) ** 1.6 * (window.limit_ms - window.start_ms))
                      .astype(np.int64))
    owner = org.pick_active(rng, n)
    currency = rng.choice(len(CODES), size=n, p=SHARES)
    table = pa.table({
        "account_id": pa.array(np.arange(1, n + 1), pa.int64()),
        "name": text.company_names(rng, n),
        "owner_rep_id": pa.array(owner + 1, pa.int64()),
        "created_at": pa.array(created, pa.timestamp("ms", tz="UTC")),
        "industry": text.take(text.INDUSTRIES, rng.integers(0, len(text.INDUSTRIES), n)),
    })
    return Accounts(table, owner, created, currency)


def _stage_walk(rng: np.random.Generator, created: np.ndarray, close_day: np.ndarray,
                owner: np.ndarray, org: Org, window: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Final stage index, number of open stages walked, and the close instant (closed deals)."""
    n = len(created)
    closed = close_day < window.as_of_day
    won = closed & (rng.random(n) < org.win_rate[owner])
    reached = rng.choice(5, size=n, p=LOST_REACHED_P)
    close_at = close_day.astype(np.int64) * DAY_MS + 8 * HOUR_MS + (rng.random(n) * 10 * HOUR_MS).astype(np.int64)
    progress = (window.horizon_ms - created) / np.maximum(close_at - created, 1)
    open_stage = np.clip(np.floor(progress * 5 + rng.normal(0, 0.7, n)), 0, 4).astype(np.int64)
    final = np.where(won, WON, np.where(closed, LOST, open_stage))
    walked = np.where(won, 5, np.where(closed, reached + 1, open_stage + 1))
    return final, walked, close_at


def _stage_events(rng: np.random.Generator, opp_ids: np.ndarray, created: np.ndarray, final: np.ndarray,
                  walked: np.ndarray, close_at: np.ndarray, horizon_ms: int) -> tuple[pa.Table, np.ndarray]:
    """Each deal walks stages 0..walked-1 in order, then its closed stage at close_at if closed.

    Open-stage entries are spread by exponential gaps over [created, close_at or horizon), the
    first at created. Returns the table and each deal's last entry instant.
    """
    closed = final >= WON
    counts = walked + closed
    total = int(counts.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    deal = np.repeat(np.arange(len(created)), counts)
    pos = np.arange(total) - offsets[deal]
    gaps = rng.exponential(1.0, total)
    gaps[pos == 0] = 0.0
    cum = np.cumsum(gaps)
    cum -= cum[offsets][deal]
    last_open = offsets + walked - 1
    scale = cum[last_open] + rng.exponential(1.0, len(created)) + 1e-9
    bound = np.where(closed, close_at, horizon_ms)
    span = (bound - created)[deal]
    at = created[deal] + np.floor(cum / scale[deal] * span).astype(np.int64)
    room = walked[deal] - pos  # entries still to come (>=1 for open ones)
    at = np.minimum(at + pos, bound[deal] - room)
    is_closed_entry = pos == walked[deal]
    at[is_closed_entry] = close_at[deal[is_closed_entry]]
    stage = np.where(is_closed_entry, final[deal], pos)
    table = pa.table({
        "opportunity_id": pa.array(opp_ids[deal], pa.int64()),
        "stage": text.take(STAGES, stage),
        "entered_at": pa.array(at, pa.timestamp("ms", tz="UTC")),
    })
    return table, at[offsets + counts - 1]


def _deal_types(rng: np.random.Generator, account: np.ndarray, won: np.ndarray, deleted: np.ndarray,
                close_at: np.ndarray, created: np.ndarray, n_accounts: int) -> tuple[np.ndarray, np.ndarray]:
    """new unless the account already had a win closed before the day this deal was created."""
    first_win = np.full(n_accounts, NO_WIN, dtype=np.int64)
    counted = won & ~deleted & (account >= 0)
    np.minimum.at(first_win, account[counted], close_at[counted])
    has_account = account >= 0
    # Compared by day: CRMs hold a close date, not a close instant.
    existing = has_account & (first_win[np.where(has_account, account, 0)] // DAY_MS < created // DAY_MS)
    kind = np.where(existing, np.where(rng.random(len(account)) < 0.45, 1, 2), 0)
    return kind, first_win


def _pick_existing_accounts(rng: np.random.Generator, account_created: np.ndarray,
                            at: np.ndarray) -> np.ndarray:
    """For each instant, an account created before it (skewed: some accounts get many deals), or -1.

    Accounts are sorted by creation, so the eligible ones are a prefix; a draw on the prefix's
    cumulative weight keeps the skew without per-row Python.
    """
    cum = np.cumsum(rng.lognormal(0.0, 1.1, len(account_created)))
    eligible = np.searchsorted(account_created, at, side="left")
    total = np.where(eligible > 0, cum[np.maximum(eligible - 1, 0)], 0.0)
    pick = np.searchsorted(cum, rng.random(len(at)) * total, side="right")
    return np.where(eligible > 0, np.minimum(pick, eligible - 1), -1)


def build_deals(rng: np.random.Generator, org: Org, accounts: Accounts, n: int, window: Window) -> Deals:
    """Opportunities (ids in creation order), their stage events, and helper arrays."""
    n_accounts = len(accounts.owner)
    created = np.sort(window.start_ms + (rng.random(n) ** 0.85 * (window.limit_ms - window.start_ms))
                      .astype(np.int64))
    account = _pick_existing_accounts(rng, accounts.created_ms, created)
    account = np.where(rng.random(n) < 0.97, account, -1)
    has_account = account >= 0
    acct = np.where(has_account, account, 0)

    fallback = org.pick_active(rng, n)
    owner = np.where(has_account, accounts.owner[acct], fallback)
    owner = np.where(rng.random(n) < 0.15, org.same_team(rng, owner), owner)
    cycle = np.clip(np.round(rng.lognormal(np.log(45), 0.6, n)), 10, 180).astype(np.int64)
    close_day = np.minimum(created // DAY_MS + cycle, window.end_day)
    final, walked, close_at = _stage_walk(rng, created, close_day, owner, org, window)
    deleted = rng.random(n) < 0.02
    won = final == WON
    kind, first_win = _deal_types(rng, account, won, deleted, close_at, created, n_accounts)

    currency = np.where(has_account, accounts.currency[acct], 0)
    usd = rng.lognormal(np.log(18_000), 0.9, n) * np.array([1.0, 0.9, 0.45])[kind]
    amount = np.round(usd * RATES[currency])
    subscription = (kind == 1) | (rng.random(n) < 0.75)
    recurring = np.where(subscription, np.round(amount * rng.uniform(0.7, 1.0, n)), 0.0)
    opp_ids = np.arange(1, n + 1)
    events, last_entry = _stage_events(rng, opp_ids, created, final, walked, close_at, window.horizon_ms)
    updated = np.minimum(last_entry + rng.exponential(2 * DAY_MS, n).astype(np.int64), window.horizon_ms - 1)
    updated = np.maximum(updated, last_entry)

    account_names = pc.take(accounts.table["name"], pa.array(acct))
    lead_in = pc.if_else(pa.array(has_account), account_names, "New Business")
    names = text.join(lead_in, " - ", text.take(text.PRODUCTS, rng.integers(0, len(text.PRODUCTS), n)))
    table = pa.table({
        "opportunity_id": pa.array(opp_ids, pa.int64()),
        "account_id": pa.array(account + 1, pa.int64(), mask=~has_account),
        "owner_rep_id": pa.array(owner + 1, pa.int64()),
        "name": names,
        "stage": text.take(STAGES, final),
        "amount": pa.array(amount, pa.float64()),
        "currency": text.take(CODES, currency),
        "recurring_amount": pa.array(recurring, pa.float64()),
        "deal_type": text.take(DEAL_TYPES, kind),
        "created_at": pa.array(created, pa.timestamp("ms", tz="UTC")),
        "close_date": pa.array(close_day.astype(np.int32), pa.date32()),
        "updated_at": pa.array(updated, pa.timestamp("ms", tz="UTC")),
        "is_deleted": pa.array(deleted),
    })
    counted = won & ~deleted
    won_rc = float((amount[counted] / RATES[currency[counted]]).sum())
    until = np.where(final >= WON, close_at, window.horizon_ms)
    return Deals(table, events, owner, account, created, until, deleted, first_win, won_rc)
