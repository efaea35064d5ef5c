"""A hand-made store for the crediting rules; every expected value in test_crediting.py is worked out
from the rows below.

Teams east, west. r1, r2 in east; r3 in west; r4 moved from east to west on 2026-02-01.
Source `sf` tracks owner history; source `hs` has none. as_of 2026-03-15, fiscal years from January.

| opp | source | won  | amount | close      | current owner | what happens                                      |
| o1  | sf     | yes  | 1000   | 2026-01-10 | r2            | reassigned r1 -> r2 on 01-20, after close: r1     |
| o2  | sf     | yes  | 2000   | 2026-01-15 | r1            | Revenue splits r1 60 %, r3 40 %                    |
| o3  | sf     | yes  | 500    | 2026-01-20 | r1            | lone 100 % Revenue split to its owner: no split    |
| o4  | sf     | yes  | 3000   | 2026-02-10 | r3            | r2 -> r3 on 02-20; splits r3 50 (moved), r1 50     |
| o5  | sf     | yes  | 800    | 2026-01-25 | r4            | r4 was in east then                                |
| o6  | sf     | yes  | 700    | 2026-02-25 | r4            | r4 is in west now                                  |
| o7  | hs     | yes  | 2000   | 2026-01-15 | r1            | mirrored copy of sf o2: no credit                  |
| o8  | sf     | yes  | 400    | 2026-01-05 | r3            | Overlay split r1 100 %: rep credit only            |
| o9  | sf     | open | 900    | 2026-03-30 | r2            | open pipeline: current owner                       |
| o10 | sf     | yes  | 9999   | 2026-01-12 | r1            | deleted                                            |
| o11 | hs     | yes  | 100    | 2026-03-01 | r3            | no owner history in hs: fallback to current owner  |
| o12 | hs     | yes  | 200    | 2026-03-02 | r3            | owner assigned 02-01, before close: owner at close |
"""

from __future__ import annotations

from typing import Any


def _opp(
    oid: str, source: str, owner: str, won: bool | None, amount: float, close: str, **extra: Any
) -> dict[str, Any]:
    row = {
        "opportunity_id": oid, "source": source, "owner_rep_id": owner, "account_id": None,
        "is_closed": won is not None, "is_won": bool(won), "amount_rc": amount, "recurring_amount_rc": None,
        "created_at": "2025-12-01 00:00:00", "close_date": close, "is_deleted": False, "mirror_of": None,
        "owner_assigned_at": None,
    }
    row.update(extra)
    return row


def _split(sid: str, oid: str, rep: str, percentage: float, split_type: str = "Revenue") -> dict[str, Any]:
    return {"split_id": sid, "source": "sf", "opportunity_id": oid, "owner_rep_id": rep, "percentage": percentage,
            "split_type": split_type}


def _rep(rep_id: str, team: str) -> dict[str, Any]:
    return {"rep_id": rep_id, "source": "sf", "name": rep_id.upper(), "email": f"{rep_id}@x.test", "team_id": team,
            "is_active": True}


def _history(rep_id: str, team: str, valid_from: str | None, valid_to: str | None) -> dict[str, Any]:
    return {"rep_id": rep_id, "team_id": team, "valid_from": valid_from, "valid_to": valid_to, "origin": "file"}


TABLES: dict[str, list[dict[str, Any]]] = {
    "teams": [
        {"team_id": "east", "name": "East", "parent_team_id": None},
        {"team_id": "west", "name": "West", "parent_team_id": None},
    ],
    "reps": [_rep("r1", "east"), _rep("r2", "east"), _rep("r3", "west"), _rep("r4", "west")],
    "rep_team_history": [
        _history("r1", "east", None, None),
        _history("r2", "east", None, None),
        _history("r3", "west", None, None),
        _history("r4", "east", None, "2026-02-01"),
        _history("r4", "west", "2026-02-01", None),
    ],
    "opportunities": [
        _opp("o1", "sf", "r2", True, 1000, "2026-01-10"),
        _opp("o2", "sf", "r1", True, 2000, "2026-01-15"),
        _opp("o3", "sf", "r1", True, 500, "2026-01-20"),
        _opp("o4", "sf", "r3", True, 3000, "2026-02-10"),
        _opp("o5", "sf", "r4", True, 800, "2026-01-25"),
        _opp("o6", "sf", "r4", True, 700, "2026-02-25"),
        _opp("o7", "hs", "r1", True, 2000, "2026-01-15", mirror_of="o2"),
        _opp("o8", "sf", "r3", True, 400, "2026-01-05"),
        _opp("o9", "sf", "r2", None, 900, "2026-03-30"),
        _opp("o10", "sf", "r1", True, 9999, "2026-01-12", is_deleted=True),
        _opp("o11", "hs", "r3", True, 100, "2026-03-01"),
        _opp("o12", "hs", "r3", True, 200, "2026-03-02", owner_assigned_at="2026-02-01 09:00:00"),
    ],
    "owner_changes": [
        {"opportunity_id": "o1", "source": "sf", "old_owner_rep_id": "r1", "new_owner_rep_id": "r2",
         "changed_at": "2026-01-20 10:00:00"},
        {"opportunity_id": "o4", "source": "sf", "old_owner_rep_id": "r2", "new_owner_rep_id": "r3",
         "changed_at": "2026-02-20 10:00:00"},
    ],
    "opportunity_splits": [
        _split("s1", "o2", "r1", 60),
        _split("s2", "o2", "r3", 40),
        _split("s3", "o3", "r1", 100),
        _split("s4", "o4", "r3", 50),
        _split("s5", "o4", "r1", 50),
        _split("s6", "o8", "r1", 100, "Overlay"),
    ],
    "quotas": [
        # 59 days (Jan 31 + Feb 28) at 100 a day: 3100 while r4 was in east, 2800 since it is in west
        {"owner": "r4", "period_start": "2026-01-01", "period_end": "2026-03-01", "measure": "revenue",
         "amount_rc": 5900},
    ],
    "activities": [
        {"activity_id": a, "source": "sf", "owner_rep_id": "r4", "kind": "call", "occurred_at": at}
        for a, at in (("a1", "2026-01-10 09:00:00"), ("a2", "2026-02-10 09:00:00"))
    ],
}
