"""A small hand-made store whose every KPI value is worked out by hand in test_kpis.py.

Teams: east > east_smb, west. Reps: r1, r5 in east; r2 in east_smb; r3, r4 (idle) in west.
as_of 2026-03-15, fiscal years start in January.
"""

from __future__ import annotations

from typing import Any


def _opp(
    oid: str,
    owner: str | None,
    account: str | None,
    closed: bool,
    won: bool,
    amount_rc: float,
    recurring_rc: float,
    created: str,
    close: str,
    *,
    deleted: bool = False,
    amount: float | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "opportunity_id": oid,
        "source": "sf",
        "owner_rep_id": owner,
        "account_id": account,
        "is_closed": closed,
        "is_won": won,
        "amount": amount_rc if amount is None else amount,
        "currency": currency,
        "amount_rc": amount_rc,
        "recurring_amount_rc": recurring_rc,
        "created_at": created,
        "close_date": close,
        "is_deleted": deleted,
    }


def _event(oid: str, category: str, at: str) -> dict[str, Any]:
    return {"opportunity_id": oid, "stage": category.title(), "stage_category": category, "entered_at": at}


def _act(aid: str, owner: str | None, kind: str, at: str, source: str = "sf") -> dict[str, Any]:
    return {"activity_id": aid, "source": source, "owner_rep_id": owner, "kind": kind, "occurred_at": at}


def _fb(fid: str, kind: str, score: float, rep: str | None, account: str | None, at: str = "2026-01-15 12:00:00"):
    return {"feedback_id": fid, "kind": kind, "score": score, "rep_id": rep, "account_id": account, "submitted_at": at}


TABLES: dict[str, list[dict[str, Any]]] = {
    "teams": [
        {"team_id": "east", "name": "East", "parent_team_id": None},
        {"team_id": "east_smb", "name": "East SMB", "parent_team_id": "east"},
        {"team_id": "west", "name": "West", "parent_team_id": None},
    ],
    "reps": [
        {"rep_id": "r1", "source": "sf", "name": "Ann", "email": "ann@x.test", "team_id": "east", "is_active": True},
        {"rep_id": "r2", "source": "sf", "name": "Bo", "email": "bo@x.test", "team_id": "east_smb", "is_active": True},
        {"rep_id": "r3", "source": "sf", "name": "Cy", "email": "cy@x.test", "team_id": "west", "is_active": True},
        {"rep_id": "r4", "source": "sf", "name": "Di", "email": "di@x.test", "team_id": "west", "is_active": True},
        {"rep_id": "r5", "source": "sf", "name": "Ed", "email": "ed@x.test", "team_id": "east", "is_active": True},
    ],
    # r2 is one person in two CRMs: one rep_id, activities from both sources
    "rep_identities": [
        {"rep_id": "r2", "source": "sf", "crm_id": "005B", "email": "bo@x.test"},
        {"rep_id": "r2", "source": "hs", "crm_id": "77", "email": "BO@x.test"},
    ],
    "accounts": [
        {"account_id": "A1", "source": "sf", "owner_rep_id": "r1"},
        {"account_id": "A2", "source": "sf", "owner_rep_id": "r1"},
        {"account_id": "A3", "source": "sf", "owner_rep_id": "r2"},
        {"account_id": "A4", "source": "sf", "owner_rep_id": "r3"},
        {"account_id": "A5", "source": "sf", "owner_rep_id": "r5"},
    ],
    "opportunities": [
        _opp("o1", "r1", "A1", True, True, 1000, 500, "2025-12-01 10:00:00", "2026-01-10", amount=900, currency="EUR"),
        _opp("o2", "r1", "A1", True, True, 3000, 1200, "2026-01-05 09:00:00", "2026-02-05"),
        _opp("o3", "r1", "A2", True, False, 2000, 0, "2025-12-15 00:00:00", "2026-01-20"),
        _opp("o4", "r1", "A2", False, False, 5000, 0, "2026-01-02 00:00:00", "2026-03-30"),
        _opp("o5", "r1", "A2", True, True, 99999, 99999, "2025-12-01 00:00:00", "2026-01-15", deleted=True),
        _opp("o6", "r2", "A3", True, True, 2000, 800, "2026-01-01 00:00:00", "2026-01-25"),
        _opp("o7", "r2", None, True, True, 500, 0, "2026-02-01 00:00:00", "2026-02-10"),
        _opp("o8", "r3", "A4", True, True, 4000, 2000, "2025-05-16 00:00:00", "2025-06-15"),
        _opp("o9", "r3", "A4", True, True, 1000, 400, "2026-02-10 00:00:00", "2026-02-20"),
        _opp("o10", "ghost", None, True, True, 700, 0, "2026-01-01 00:00:00", "2026-01-05"),
        _opp("o11", "r5", "A5", True, True, 800, 100, "2026-01-02 00:00:00", "2026-01-12"),
    ],
    "stage_events": [
        _event("o1", "prospecting", "2025-12-01 10:00:00"),
        _event("o1", "proposal", "2025-12-20 00:00:00"),
        _event("o1", "negotiation", "2026-01-02 00:00:00"),
        _event("o1", "closed_won", "2026-01-10 00:00:00"),
        _event("o2", "proposal", "2026-01-10 00:00:00"),
        _event("o2", "proposal", "2026-02-01 00:00:00"),
        _event("o2", "closed_won", "2026-02-05 00:00:00"),
        _event("o4", "proposal", "2026-02-15 00:00:00"),
        _event("o5", "proposal", "2026-01-11 00:00:00"),
        _event("o6", "proposal", "2026-01-15 00:00:00"),
        _event("o6", "closed_won", "2026-01-25 00:00:00"),
    ],
    "quotas": [
        {
            "owner": "r1",
            "period_start": "2026-01-01",
            "period_end": "2026-02-01",
            "measure": "revenue",
            "amount_rc": 4000,
        },
        {"owner": "r1", "period_start": "2026-02-01", "period_end": "2026-03-01", "measure": None, "amount_rc": 4000},
        {
            "owner": "r2",
            "period_start": "2025-12-01",
            "period_end": "2026-03-01",
            "measure": "revenue",
            "amount_rc": 9000,
        },
        {"owner": "r3", "period_start": "2026-01-01", "period_end": "2026-02-01", "measure": "revenue", "amount_rc": 0},
        {
            "owner": "east_smb",
            "period_start": "2026-01-01",
            "period_end": "2026-04-01",
            "measure": "revenue",
            "amount_rc": 6000,
        },
        {
            "owner": "r5",
            "period_start": "2026-01-01",
            "period_end": "2026-02-01",
            "measure": "revenue",
            "amount_rc": 1000,
        },
        {"owner": "r1", "period_start": "2026-01-01", "period_end": "2026-02-01", "measure": "margin", "amount_rc": 77},
    ],
    "activity_targets": [
        {"owner": "r1", "period_start": "2026-01-01", "period_end": "2026-02-01", "kind": "call", "target": 10},
    ],
    "activities": [
        _act("a1", "r1", "call", "2026-01-05 09:00:00"),
        _act("a2", "r1", "call", "2026-01-06 09:00:00"),
        _act("a3", "r1", "call", "2026-01-07 09:00:00"),
        _act("a4", "r1", "email", "2026-01-07 10:00:00"),
        _act("a5", "r1", "meeting", "2026-02-03 10:00:00"),
        _act("a6", "r1", "task", "2026-01-08 10:00:00"),
        _act("a7", "r2", "call", "2026-01-08 10:00:00"),
        _act("a8", "r2", "call", "2026-01-09 10:00:00"),
        _act("a10", "r2", "call", "2026-01-09 11:00:00", source="hs"),
        _act("a9", None, "call", "2026-01-09 12:00:00"),
    ],
    "leads": [
        {
            "lead_id": "L1",
            "owner_rep_id": "r1",
            "created_at": "2026-01-05 08:00:00",
            "is_converted": True,
            "converted_at": "2026-02-10 08:00:00",
        },
        {
            "lead_id": "L2",
            "owner_rep_id": "r1",
            "created_at": "2026-01-06 08:00:00",
            "is_converted": False,
            "converted_at": None,
        },
        {
            "lead_id": "L3",
            "owner_rep_id": "r1",
            "created_at": "2025-12-20 08:00:00",
            "is_converted": True,
            "converted_at": "2026-01-03 08:00:00",
        },
    ],
    "feedback": [
        _fb("F1", "nps", 10, "r1", None),
        _fb("F2", "nps", 5, None, "A1"),
        _fb("F3", "nps", 8, "r1", None),
        _fb("F9", "nps", 9, "r1", None),
        _fb("F4", "nps", 9, "r3", "A1"),
        _fb("F5", "csat", 5, None, "A3"),
        _fb("F6", "csat", 3, None, "A3"),
        _fb("F7", "csat", 4, "r2", None),
        _fb("F8", "nps", 7, None, None),
        _fb("F10", "ces", 3, "r1", None, at="2026-02-02 12:00:00"),
    ],
}
