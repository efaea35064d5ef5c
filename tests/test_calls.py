from __future__ import annotations

import pytest

from spm_sync.calls import ApiCalls
from spm_sync.connectors.context import ExtractContext
from spm_sync.errors import BudgetExhausted


def test_run_budget_and_remaining() -> None:
    calls = ApiCalls(source="sf", per_run_budget=3)
    assert calls.remaining() == 3
    calls.record("query", 2)
    calls.check("query")
    assert calls.remaining() == 1
    calls.record("describe")
    with pytest.raises(BudgetExhausted, match="per-run API budget of 3 calls reached"):
        calls.check("query")
    assert calls.exhausted == "per-run API budget of 3 calls reached"
    assert calls.snapshot()["by_family"] == {"describe": 1, "query": 2}


def test_daily_reserve() -> None:
    calls = ApiCalls(source="sf", reserve_fraction=0.2)
    assert calls.remaining() is None
    calls.report_daily(used=7_000, maximum=10_000)
    assert calls.remaining() == 1_000
    calls.check()
    calls.report_daily(used=8_000, maximum=10_000)
    assert calls.remaining() == 0
    with pytest.raises(BudgetExhausted, match=r"daily API reserve reached \(2000 of 10000 calls left, reserve 20%\)"):
        calls.check()


def test_the_first_stop_reason_wins_and_connectors_report_it() -> None:
    calls, warnings = ApiCalls(source="hs"), []
    context = ExtractContext(calls=calls, cache_dir=None, warn=warnings.append)  # type: ignore[arg-type]
    context.budget_stop("hubspot object deals", BudgetExhausted("HubSpot daily API limit reached (DAILY)"))
    calls.mark_exhausted("per-run API budget of 4 calls reached")
    assert calls.exhausted == "HubSpot daily API limit reached (DAILY)"
    assert warnings == [
        "hubspot object deals stopped by the API budget (resumes next run): HubSpot daily API limit reached (DAILY)"
    ]
