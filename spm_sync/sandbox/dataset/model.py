"""The canonical, CRM-neutral data set and its split between the two CRMs.

Why: both emulators load the same `Dataset` (ids are ints, timestamps UTC) and render it in their
vendor's shape; the split is defined here once so the two halves always partition the records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STAGES: tuple[str, ...] = (
    "prospecting", "qualification", "needs_analysis", "proposal", "negotiation", "closed_won", "closed_lost",
)
OPEN_STAGES = STAGES[:5]
WON, LOST = 5, 6  # indexes of the closed stages in STAGES
DEAL_TYPES: tuple[str, ...] = ("new", "renewal", "expansion")
ACTIVITY_KINDS: tuple[str, ...] = ("call", "email", "meeting", "task")
FEEDBACK_KINDS: tuple[str, ...] = ("nps", "csat", "ces")
LEAD_STATUSES: tuple[str, ...] = ("new", "working", "nurturing", "unqualified", "converted")
CORPORATE_CURRENCY = "USD"
TABLE_NAMES: tuple[str, ...] = (
    "teams", "reps", "accounts", "opportunities", "stage_events", "leads", "activities", "feedback", "quotas",
    "currencies", "owner_changes", "opportunity_splits", "team_history", "rep_surveys", "lead_activities",
)


@dataclass(frozen=True)
class Dataset:
    """One pyarrow.Table per entity (columns as in docs/CONTRACTS.md) plus how it was made."""

    seed: int
    scale: str
    as_of: date
    teams: pa.Table
    reps: pa.Table
    accounts: pa.Table
    opportunities: pa.Table
    stage_events: pa.Table
    leads: pa.Table
    activities: pa.Table
    feedback: pa.Table
    quotas: pa.Table
    currencies: pa.Table
    owner_changes: pa.Table
    opportunity_splits: pa.Table
    team_history: pa.Table
    rep_surveys: pa.Table  # the sales team's pulse survey answers (Salesforce Rep_Survey__c)
    lead_activities: pa.Table  # first calls / e-mails about leads (Salesforce Tasks with a Lead WhoId)

    def tables(self) -> dict[str, pa.Table]:
        """Entity name -> table, in dependency order."""
        return {name: getattr(self, name) for name in TABLE_NAMES}

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: table.num_rows for name, table in self.tables().items()}

    def for_crm(self, split: bool) -> tuple[Dataset, Dataset]:
        """(salesforce_part, hubspot_part).

        With split, each team's records live in one CRM (even team ids Salesforce, odd HubSpot),
        while teams, reps (one person, a user in both CRMs), team history, currencies and the reps'
        survey answers (Salesforce serves all of them) are in both;
        owner changes and splits go with their opportunity.
        Without split both parts are this whole data set.
        """
        if not split:
            return self, self
        parities = _RecordTeams(self).parities()
        parts = []
        for keep in (0, 1):
            chosen = {name: getattr(self, name).filter(pa.array(parity == keep))
                      for name, parity in parities.items()}
            parts.append(replace(self, **chosen))
        return parts[0], parts[1]


class _RecordTeams:
    """The team each record belongs to, through its owner (or its account's owner), by the owner's first team."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        rep_ids = _ints(ds.reps["rep_id"])
        self.team_by_rep = np.zeros(int(rep_ids.max(initial=0)) + 1, dtype=np.int64)
        self.team_by_rep[rep_ids] = _ints(ds.reps["team_id"])
        # A rep who moved team keeps their records in the CRM of the team they started in (the first
        # history row), so a move never shifts records between the two CRMs.
        history = ds.team_history.sort_by([("valid_from", "descending")])
        self.team_by_rep[_ints(history["rep_id"])] = _ints(history["team_id"])
        self.team_by_account = self._lookup(ds.accounts, "account_id", "owner_rep_id")
        self.team_by_opp = self._lookup(ds.opportunities, "opportunity_id", "owner_rep_id")

    def _lookup(self, table: pa.Table, key: str, owner: str) -> np.ndarray:
        keys = _ints(table[key])
        out = np.zeros(int(keys.max(initial=0)) + 1, dtype=np.int64)
        out[keys] = self.team_by_rep[_ints(table[owner])]
        return out

    def _owner_or_account(self, table: pa.Table, rep_col: str) -> np.ndarray:
        reps, has_rep = _ints(table[rep_col]), _valid(table[rep_col])
        accounts = _ints(table["account_id"])
        return np.where(has_rep, self.team_by_rep[reps], self.team_by_account[accounts])

    def parities(self) -> dict[str, np.ndarray]:
        ds = self.ds
        teams = {
            "accounts": self.team_by_rep[_ints(ds.accounts["owner_rep_id"])],
            "opportunities": self.team_by_rep[_ints(ds.opportunities["owner_rep_id"])],
            "stage_events": self.team_by_opp[_ints(ds.stage_events["opportunity_id"])],
            "leads": self.team_by_rep[_ints(ds.leads["owner_rep_id"])],
            "lead_activities": self.team_by_rep[_ints(ds.lead_activities["owner_rep_id"])],
            "activities": self._owner_or_account(ds.activities, "owner_rep_id"),
            "feedback": self._owner_or_account(ds.feedback, "rep_id"),
            "quotas": self.team_by_rep[_ints(ds.quotas["rep_id"])],
            "owner_changes": self.team_by_opp[_ints(ds.owner_changes["opportunity_id"])],
            "opportunity_splits": self.team_by_opp[_ints(ds.opportunity_splits["opportunity_id"])],
        }
        return {name: team % 2 for name, team in teams.items()}


def _ints(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer column as numpy, nulls as 0 (no id is 0)."""
    return pc.fill_null(column, 0).to_numpy().astype(np.int64, copy=False)


def _valid(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.is_valid(column).to_numpy(zero_copy_only=False)
