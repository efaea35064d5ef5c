"""Sales organisation: an org root, regions when there are many teams, teams of 3-12 reps.

Why: KPIs roll up rep -> team, write-back targets reps' CRM users, and the CRM split is by team,
so the org must look like a real one (a manager per team, some reps who left).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from spm_sync.sandbox.dataset.text import FIRST_NAMES, LAST_NAMES, REGIONS, TEAM_CITIES

ORG_TEAM_ID = 1
TEAMS_PER_REGION = 6


@dataclass(frozen=True)
class Org:
    """Tables plus the per-rep arrays later generators draw from (index = rep_id - 1)."""

    teams: pa.Table
    reps: pa.Table
    rep_team: np.ndarray  # team_id per rep
    active: np.ndarray  # bool per rep
    win_rate: np.ndarray  # each rep's chance of winning a closed deal
    weight: np.ndarray  # territory size, drives how many records a rep owns

    @property
    def active_idx(self) -> np.ndarray:
        return np.flatnonzero(self.active)

    def pick_active(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Rep indexes of active reps, by territory weight."""
        idx = self.active_idx
        w = self.weight[idx]
        return idx[rng.choice(len(idx), size=size, p=w / w.sum())]

    def same_team(self, rng: np.random.Generator, rep_idx: np.ndarray) -> np.ndarray:
        """For each rep index, a random active rep of the same team (possibly the same rep)."""
        idx = self.active_idx
        order = idx[np.argsort(self.rep_team[idx], kind="stable")]
        teams, first, count = np.unique(self.rep_team[order], return_index=True, return_counts=True)
        slot = np.searchsorted(teams, self.rep_team[rep_idx])
        pick = first[slot] + (rng.random(len(rep_idx)) * count[slot]).astype(np.int64)
        return order[pick]


def team_sizes(rng: np.random.Generator, n_reps: int) -> list[int]:
    """Sizes of 3..12 summing to n_reps; at least two teams from 6 reps on."""
    sizes: list[int] = []
    remaining = n_reps
    while remaining > 0:
        if remaining <= 12 and (sizes or remaining < 6):
            size = remaining
        else:
            size = int(rng.integers(3, min(12, remaining - 3) + 1))
        sizes.append(size)
        remaining -= size
    return sizes


def _team_rows(sizes: list[int]) -> tuple[list[int], list[str], list[int | None], list[int]]:
    """Team ids, names, parents, and the leaf team ids in order."""
    n_regions = math.ceil(len(sizes) / TEAMS_PER_REGION) if len(sizes) > 4 else 0
    ids, names = [ORG_TEAM_ID], ["Sales"]
    parents: list[int | None] = [None]
    region_ids = []
    for r in range(n_regions):
        label = REGIONS[r % len(REGIONS)] + ("" if r < len(REGIONS) else f" {r // len(REGIONS) + 1}")
        region_ids.append(ORG_TEAM_ID + 1 + r)
        ids.append(region_ids[-1])
        names.append(label)
        parents.append(ORG_TEAM_ID)
    leaves = []
    for t in range(len(sizes)):
        team_id = ORG_TEAM_ID + 1 + n_regions + t
        city = TEAM_CITIES[t % len(TEAM_CITIES)]
        lap = t // len(TEAM_CITIES)
        leaves.append(team_id)
        ids.append(team_id)
        names.append(f"{city} Sales" + (f" {lap + 1}" if lap else ""))
        parents.append(region_ids[t // TEAMS_PER_REGION] if region_ids else ORG_TEAM_ID)
    return ids, names, parents, leaves


def _unique_emails(first: list[str], last: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    emails = []
    for f, surname in zip(first, last, strict=True):
        local = f"{f}.{surname}".lower()
        seen[local] = seen.get(local, 0) + 1
        suffix = "" if seen[local] == 1 else str(seen[local])
        emails.append(f"{local}{suffix}@spm-sandbox.example")
    return emails


def build_org(rng: np.random.Generator, n_reps: int) -> Org:
    """Teams and reps; the first rep of each team manages it, ~6% of the others are inactive."""
    sizes = team_sizes(rng, n_reps)
    team_ids, team_names, parents, leaves = _team_rows(sizes)
    rep_team = np.repeat(np.array(leaves, dtype=np.int64), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    is_manager = np.zeros(n_reps, dtype=bool)
    is_manager[starts] = True
    manager_id = np.repeat(starts + 1, sizes)
    active = np.ones(n_reps, dtype=bool)
    others = np.flatnonzero(~is_manager)
    n_inactive = max(1, round(0.06 * n_reps)) if n_reps >= 8 else 0
    active[rng.choice(others, size=min(n_inactive, len(others)), replace=False)] = False
    first = [FIRST_NAMES[i] for i in rng.integers(0, len(FIRST_NAMES), n_reps)]
    last = [LAST_NAMES[i] for i in rng.integers(0, len(LAST_NAMES), n_reps)]
    senior = rng.random(n_reps) < 0.3
    titles = np.where(is_manager, "Sales Manager", np.where(senior, "Senior Account Executive",
                                                             "Account Executive"))
    teams = pa.table({
        "team_id": pa.array(team_ids, pa.int64()),
        "name": pa.array(team_names, pa.string()),
        "parent_team_id": pa.array(parents, pa.int64()),
    })
    reps = pa.table({
        "rep_id": pa.array(np.arange(1, n_reps + 1), pa.int64()),
        "first_name": pa.array(first, pa.string()),
        "last_name": pa.array(last, pa.string()),
        "email": pa.array(_unique_emails(first, last), pa.string()),
        "team_id": pa.array(rep_team, pa.int64()),
        "manager_rep_id": pa.array(manager_id, pa.int64(), mask=is_manager),
        "is_active": pa.array(active),
        "title": pa.array(titles.tolist(), pa.string()),
    })
    win_rate = np.clip(rng.normal(0.30, 0.06, n_reps), 0.12, 0.55)
    weight = rng.lognormal(0.0, 0.35, n_reps)
    return Org(teams, reps, rep_team, active, win_rate, weight)
