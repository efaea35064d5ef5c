"""Leads, activities and customer feedback around the deals.

Why: activity, lead-conversion and NPS/CSAT KPIs need volumes spread over reps and time with the
skewed shapes real CRMs show (most activity on live deals, promoters outnumbering detractors).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spm_sync.sandbox.dataset import text
from spm_sync.sandbox.dataset.clock import DAY_MS, HOUR_MS, Window, uniform_ms
from spm_sync.sandbox.dataset.deals import NO_WIN, Accounts, Deals
from spm_sync.sandbox.dataset.model import ACTIVITY_KINDS, FEEDBACK_KINDS, LEAD_STATUSES
from spm_sync.sandbox.dataset.people import Org

TS = pa.timestamp("ms", tz="UTC")
NPS_P = np.array([0.03, 0.02, 0.02, 0.03, 0.04, 0.07, 0.08, 0.14, 0.17, 0.20, 0.20])  # scores 0..10
CSAT_P = np.array([0.05, 0.07, 0.15, 0.38, 0.35])  # 1..5
CES_P = np.array([0.03, 0.05, 0.08, 0.14, 0.25, 0.27, 0.18])  # 1..7, higher = easier


def build_leads(rng: np.random.Generator, org: Org, n: int, window: Window) -> pa.Table:
    """Leads over the window; ~22% converted (converted_at after created_at, before horizon)."""
    created = np.sort(uniform_ms(rng, window.start_ms, window.horizon_ms - HOUR_MS, n))
    owner = org.pick_active(rng, n)
    converted_at = created + DAY_MS + rng.exponential(21 * DAY_MS, n).astype(np.int64)
    converted = (rng.random(n) < 0.22) & (converted_at < window.horizon_ms)
    recent = (window.horizon_ms - created) < 14 * DAY_MS
    fresh = rng.choice(2, size=n, p=[0.6, 0.4])
    aged = rng.choice(4, size=n, p=[0.05, 0.25, 0.30, 0.40])
    status = np.where(converted, 4, np.where(recent, fresh, aged))
    first = text.take(text.FIRST_NAMES, rng.integers(0, len(text.FIRST_NAMES), n))
    last = text.take(text.LAST_NAMES, rng.integers(0, len(text.LAST_NAMES), n))
    ids = np.arange(1, n + 1)
    domain = text.take(text.EMAIL_DOMAINS, rng.integers(0, len(text.EMAIL_DOMAINS), n))
    email = text.join(text.slug(first), ".", text.slug(last), ".", text.numbers(ids), "@", domain)
    return pa.table({
        "lead_id": pa.array(ids, pa.int64()),
        "owner_rep_id": pa.array(owner + 1, pa.int64()),
        "first_name": first,
        "last_name": last,
        "email": email,
        "company": text.company_names(rng, n),
        "created_at": pa.array(created, TS),
        "status": text.take(LEAD_STATUSES, status),
        "is_converted": pa.array(converted),
        "converted_at": pa.array(converted_at, TS, mask=~converted),
    })


def build_activities(rng: np.random.Generator, accounts: Accounts, deals: Deals, n: int,
                     window: Window) -> pa.Table:
    """60% on live deals (inside the deal's life), the rest on accounts; a rare few without owner."""
    live = np.flatnonzero(~deals.deleted)
    on_deal = rng.random(n) < 0.6
    deal = live[rng.integers(0, len(live), n)]
    acct = rng.integers(0, len(accounts.owner), n)
    owner = np.where(on_deal, deals.owner[deal], accounts.owner[acct])
    account = np.where(on_deal, deals.account[deal], acct)
    lo = np.where(on_deal, deals.created_ms[deal], accounts.created_ms[acct])
    hi = np.where(on_deal, deals.until_ms[deal], window.horizon_ms)
    occurred = uniform_ms(rng, lo, hi, n)
    orphan = ~on_deal & (rng.random(n) < 0.002)
    order = np.argsort(occurred, kind="stable")
    occurred, owner, account, on_deal, deal, orphan = _in_order(order, occurred, owner, account, on_deal, deal, orphan)
    kind = rng.choice(len(ACTIVITY_KINDS), size=n, p=[0.30, 0.40, 0.15, 0.15])
    per_kind = len(text.SUBJECTS["call"])
    subjects = [s for k in ACTIVITY_KINDS for s in text.SUBJECTS[k]]
    subject = text.take(subjects, kind * per_kind + rng.integers(0, per_kind, n))
    recent = (window.horizon_ms - occurred) < 7 * DAY_MS
    completed = rng.random(n) < np.where(recent, 0.5, 0.97)
    return pa.table({
        "activity_id": pa.array(np.arange(1, n + 1), pa.int64()),
        "owner_rep_id": pa.array(owner + 1, pa.int64(), mask=orphan),
        "kind": text.take(ACTIVITY_KINDS, kind),
        "subject": subject,
        "occurred_at": pa.array(occurred, TS),
        "is_completed": pa.array(completed),
        "account_id": pa.array(account + 1, pa.int64(), mask=account < 0),
        "opportunity_id": pa.array(deal + 1, pa.int64(), mask=~on_deal),  # ids are index + 1
    })


def _scores(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    n = len(kind)
    nps = rng.choice(11, size=n, p=NPS_P)
    csat = rng.choice(5, size=n, p=CSAT_P) + 1
    ces = rng.choice(7, size=n, p=CES_P) + 1
    return np.select([kind == 0, kind == 1], [nps, csat], ces)


def _comments(rng: np.random.Generator, kind: np.ndarray, score: np.ndarray) -> pa.Array:
    """About a third of responses carry a comment matching their sentiment."""
    share = np.select([kind == 0, kind == 1], [score / 10, (score - 1) / 4], (score - 1) / 6)
    mood = np.digitize(share, [0.65, 0.85])  # detractor, passive, promoter
    choices = [c for m in ("detractor", "passive", "promoter") for c in text.COMMENTS[m]]
    per = len(text.COMMENTS["passive"])
    comment = text.take(choices, mood * per + rng.integers(0, per, len(kind)))
    return pc.if_else(pa.array(rng.random(len(kind)) < 0.35), comment, pa.scalar(None, pa.string()))


def build_feedback(rng: np.random.Generator, org: Org, accounts: Accounts, deals: Deals, n: int,
                   window: Window) -> pa.Table:
    """Mostly from customers (after their first win); ~40% name the rep, else only the account."""
    customers = np.flatnonzero(deals.first_win_ms != NO_WIN)
    pool = customers if len(customers) else np.arange(len(accounts.owner))
    from_customer = rng.random(n) < 0.8
    acct = np.where(from_customer, pool[rng.integers(0, len(pool), n)], rng.integers(0, len(accounts.owner), n))
    since = np.where(deals.first_win_ms[acct] != NO_WIN, deals.first_win_ms[acct], accounts.created_ms[acct])
    submitted = uniform_ms(rng, since, window.horizon_ms, n)
    kind = rng.choice(len(FEEDBACK_KINDS), size=n, p=[0.6, 0.3, 0.1])
    score = _scores(rng, kind)
    named = rng.random(n) < 0.4
    rep = np.where(rng.random(n) < 0.85, accounts.owner[acct], org.same_team(rng, accounts.owner[acct]))
    order = np.argsort(submitted, kind="stable")
    submitted, kind, score, acct, rep, named = _in_order(order, submitted, kind, score, acct, rep, named)
    return pa.table({
        "feedback_id": pa.array(np.arange(1, n + 1), pa.int64()),
        "kind": text.take(FEEDBACK_KINDS, kind),
        "score": pa.array(score, pa.int64()),
        "comment": _comments(rng, kind, score),
        "submitted_at": pa.array(submitted, TS),
        "account_id": pa.array(acct + 1, pa.int64()),
        "rep_id": pa.array(rep + 1, pa.int64(), mask=~named),
    })


def _in_order(order: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
    """Every column of one table reordered by the same `order`."""
    return [column[order] for column in columns]
