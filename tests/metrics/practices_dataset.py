"""A small hand-made store for the practices KPIs (issue 14), every value worked out in test_practices.py.

Teams t1 (reps p1, p2) and t2 (rep p3); as_of 2026-03-15, fiscal years start in January.
Deals: w* won, l* lost, open* open; the stale rule is 30 days without a touch (creation, stage entry,
activity on the deal).
"""

from __future__ import annotations

from typing import Any


def _deal(
    oid: str,
    owner: str,
    state: str,
    amount: float | None,
    created: str,
    close: str,
    deal_type: str | None = None,
    lead_source: str | None = None,
    loss_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "opportunity_id": oid,
        "source": "sf",
        "owner_rep_id": owner,
        "is_closed": state != "open",
        "is_won": state == "won",
        "amount": amount,
        "currency": "USD",
        "amount_rc": amount,
        "deal_type": deal_type,
        "lead_source": lead_source,
        "loss_reason": loss_reason,
        "created_at": created,
        "close_date": close,
        "is_deleted": False,
    }


def _stages(oid: str, *entries: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"opportunity_id": oid, "stage": category.title(), "stage_category": category, "entered_at": f"{day} 09:00:00"}
        for category, day in entries
    ]


def _activity(
    aid: str, owner: str, kind: str, at: str, opportunity: str | None = None, lead: str | None = None
) -> dict[str, Any]:
    return {"activity_id": aid, "source": "sf", "owner_rep_id": owner, "kind": kind, "occurred_at": at,
            "opportunity_id": opportunity, "lead_id": lead}


def _lead(lid: str, owner: str, created: str) -> dict[str, Any]:
    return {"lead_id": lid, "source": "sf", "owner_rep_id": owner, "created_at": created, "is_converted": False}


def _survey(fid: str, rep: str, score: float, topic: str | None, day: str, kind: str = "rep") -> dict[str, Any]:
    return {"feedback_id": fid, "source": "survey", "kind": kind, "score": score, "topic": topic, "rep_id": rep,
            "comment": f"comment {fid}", "submitted_at": f"{day} 12:00:00"}


TABLES: dict[str, list[dict[str, Any]]] = {
    "teams": [
        {"team_id": "t1", "name": "One", "parent_team_id": None},
        {"team_id": "t2", "name": "Two", "parent_team_id": None},
    ],
    "reps": [
        {"rep_id": "p1", "source": "sf", "name": "Pia", "email": "pia@x.test", "team_id": "t1", "is_active": True},
        {"rep_id": "p2", "source": "sf", "name": "Pat", "email": "pat@x.test", "team_id": "t1", "is_active": True},
        {"rep_id": "p3", "source": "sf", "name": "Pol", "email": "pol@x.test", "team_id": "t2", "is_active": True},
    ],
    "opportunities": [
        _deal("w1", "p1", "won", 1000, "2026-01-02 09:00:00", "2026-01-20", "new", "Web"),
        _deal("w2", "p1", "won", 3000, "2025-12-10 09:00:00", "2026-02-10", "renewal", "Referral"),
        _deal("l1", "p1", "lost", 2000, "2026-01-05 09:00:00", "2026-01-25", "new", "Web", "Price"),
        _deal("l2", "p1", "lost", 500, "2026-01-06 09:00:00", "2026-01-28", "renewal", "Web", "Competitor"),
        _deal("l3", "p2", "lost", 700, "2025-12-01 09:00:00", "2026-01-15", "new", "Referral", "Price"),
        _deal("l4", "p2", "lost", None, "2026-01-20 09:00:00", "2026-02-03", "new"),
        _deal("w3", "p3", "won", 4000, "2026-01-10 09:00:00", "2026-01-30", "new", "Web"),
        _deal("open1", "p1", "open", 5000, "2025-12-28 09:00:00", "2026-02-15"),
        _deal("open2", "p2", "open", None, "2026-02-01 00:00:00", "2026-04-30"),
        _deal("open3", "p3", "open", 800, "2025-11-01 09:00:00", "2026-03-31"),
    ],
    "stage_events": [
        # w1 skips needs_analysis; w2 passes every stage; w3 starts at proposal and skips negotiation
        *_stages(
            "w1", ("prospecting", "2026-01-02"), ("qualification", "2026-01-05"), ("proposal", "2026-01-10"),
            ("negotiation", "2026-01-15"), ("closed_won", "2026-01-20"),
        ),
        *_stages(
            "w2", ("prospecting", "2025-12-10"), ("qualification", "2025-12-20"), ("needs_analysis", "2026-01-05"),
            ("proposal", "2026-01-15"), ("negotiation", "2026-01-25"), ("closed_won", "2026-02-10"),
        ),
        *_stages("w3", ("proposal", "2026-01-12"), ("closed_won", "2026-01-30")),
        *_stages("l1", ("prospecting", "2026-01-05"), ("closed_lost", "2026-01-25")),
        *_stages("open3", ("proposal", "2026-01-20")),
    ],
    "activities": [
        _activity("a1", "p1", "call", "2026-01-01 10:00:00", "open1"),
        _activity("a2", "p1", "email", "2026-01-12 10:00:00"),
        _activity("a3", "p1", "meeting", "2026-01-18 10:00:00", "w1"),
        _activity("a4", "p3", "call", "2026-01-25 10:00:00"),
        _activity("a5", "p2", "call", "2026-03-10 10:00:00", "open2"),
        # about leads: LD1 first touched 2.5 days after creation (a7 later), LD2 after 1 day, LD3 never
        _activity("a6", "p1", "call", "2026-01-07 20:00:00", lead="LD1"),
        _activity("a7", "p1", "email", "2026-01-20 10:00:00", lead="LD1"),
        _activity("a8", "p2", "call", "2026-01-11 00:00:00", lead="LD2"),
    ],
    "leads": [
        _lead("LD1", "p1", "2026-01-05 08:00:00"),
        _lead("LD2", "p2", "2026-01-10 00:00:00"),
        _lead("LD3", "p3", "2026-02-01 00:00:00"),
    ],
    "feedback": [
        _survey("R1", "p1", 10, "Tools", "2026-01-10"),
        _survey("R2", "p1", 6, "Leads", "2026-01-11"),
        _survey("R3", "p2", 9, "Tools", "2026-01-12"),
        _survey("R4", "p2", 8, "Leads", "2026-01-13"),
        _survey("R5", "p3", 3, "Tools", "2026-02-05"),
        _survey("R6", "p3", 10, None, "2026-02-06"),
        _survey("N1", "p1", 10, None, "2026-01-10", kind="nps"),  # a customer's NPS: not the team's
    ],
}
