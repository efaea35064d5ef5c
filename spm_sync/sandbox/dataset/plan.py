"""Currencies (corporate USD) and monthly revenue quotas per active rep.

Why: attainment needs quotas near what reps actually win (so values land around 60-120%), and
multi-currency deals need the rates the CRMs would hold (CurrencyType / HubSpot exchange rates).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from spm_sync.sandbox.dataset.clock import day_number

# iso code, units per 1 USD, share of accounts that buy in it
CURRENCIES: tuple[tuple[str, float, float], ...] = (
    ("USD", 1.0, 0.62),
    ("EUR", 0.92, 0.17),
    ("GBP", 0.79, 0.10),
    ("JPY", 151.3, 0.06),
    ("CAD", 1.37, 0.05),
)
CODES = tuple(code for code, _, _ in CURRENCIES)
RATES = np.array([rate for _, rate, _ in CURRENCIES])
SHARES = np.array([share for _, _, share in CURRENCIES])


def currencies_table() -> pa.Table:
    return pa.table({
        "iso_code": pa.array(CODES, pa.string()),
        "conversion_rate": pa.array(RATES, pa.float64()),
    })


def month_starts(first_year: int, last_year: int) -> list[date]:
    """First day of every month from Jan first_year through Jan last_year+1 (the last is the end)."""
    months = [date(y, m, 1) for y in range(first_year, last_year + 1) for m in range(1, 13)]
    return [*months, date(last_year + 1, 1, 1)]


def quotas_table(rng: np.random.Generator, active_idx: np.ndarray, as_of: date,
                 monthly_won_per_rep: float) -> pa.Table:
    """One row per active rep and month of the covered window, amount in the reporting currency.

    A rep's quota is the company's average monthly win per rep times a personal factor,
    ten percent higher in the current year, rounded to thousands.
    """
    bounds = month_starts(as_of.year - 1, as_of.year)
    starts = np.array([day_number(d) for d in bounds[:-1]], dtype=np.int32)
    ends = np.array([day_number(d) for d in bounds[1:]], dtype=np.int32)
    current_year = np.array([d.year == as_of.year for d in bounds[:-1]])
    personal = rng.uniform(0.85, 1.3, len(active_idx))
    base = np.outer(personal, np.where(current_year, 1.1, 1.0)) * max(monthly_won_per_rep, 1000.0)
    amount = np.maximum(np.round(base / 1000.0) * 1000.0, 1000.0)
    n_months = len(starts)
    return pa.table({
        "rep_id": pa.array(np.repeat(active_idx + 1, n_months), pa.int64()),
        "period_start": pa.array(np.tile(starts, len(active_idx)), pa.date32()),
        "period_end": pa.array(np.tile(ends, len(active_idx)), pa.date32()),
        "amount": pa.array(amount.ravel(), pa.float64()),
    })
