"""HubSpot constants and the table of object definitions every resource is generated from.

Why a table: adding an object (or a custom one from `extra_objects`) is one row, and the paging,
incremental, archive and association logic exists once (connectors/hubspot/objects.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIST_PAGE_SIZE = 100  # GET /crm/v3/objects/{type}: limit max 100
SEARCH_PAGE_SIZE = 200  # POST .../search: limit max 200
SEARCH_RESULT_CAP = 10_000  # a search never pages past 10,000 results: restart after the last id
BATCH_READ_SIZE = 100  # POST .../batch/read inputs max 100
ASSOCIATION_BATCH_SIZE = 1_000  # POST /crm/v4/associations/{from}/{to}/batch/read inputs max 1,000 (since 2025-02)
HISTORY_BATCH_SIZE = 50  # POST .../batch/read with propertiesWithHistory: inputs max 50
SPLITS_BATCH_SIZE = 100  # POST /crm/v3/objects/deals/splits/batch/read: no documented limit; the CRM batch limit
OWNERS_PAGE_SIZE = 500  # GET /crm/v3/owners takes up to 500 a page; a portal sending fewer pages on (paging.next)
METADATA_MAX_AGE_S = 12 * 3600.0  # cached property / pipeline definitions are read again after this
MAX_QUERY_CHARS = 3_000  # keep GET URLs far below the ~8 KB at which HubSpot's edge answers 414

OBJECT_ID_PROPERTY = "hs_object_id"
DEFAULT_MODIFIED_PROPERTY = "hs_lastmodifieddate"
STAGE_ENTRY_PREFIXES = ("hs_v2_date_entered_", "hs_date_entered_")

ASSOCIATIONS_TABLE = "associations"
PIPELINE_STAGES_TABLE = "deal_pipeline_stages"
OWNER_HISTORY_TABLE = "deal_owner_history"
DEAL_SPLITS_TABLE = "deal_splits"
OWNERS = "owners"
OWNERS_TEAMS_TABLE = "owners__teams"


@dataclass(frozen=True)
class ObjectDef:
    """One CRM object type: API name, its table, stamp to search on, associations to pull."""

    name: str  # the API's object type in paths: `deals`, `p_widgets`, `2-1234`
    modified_property: str = DEFAULT_MODIFIED_PROPERTY
    associations: tuple[str, ...] = ()  # to-object types: inline on list pages, else v4 batch reads
    stage_properties: bool = False  # add hs_(v2_)date_entered_<stage> for every deal pipeline stage
    credit: bool = False  # deals: also read owner history and splits where crediting needs them (credit.py)
    # First load by search (200 a call, links by v4 batch reads of 1,000) instead of list pages (100, links
    # inline): fewer calls, but searches have their own limit (5 / s), so only as many objects as that
    # limit serves while the other objects' list pages use the 10-second limit (resources run in parallel).
    search_first_load: bool = False

    @property
    def table(self) -> str:
        """Raw table name: the object name, or `object_2_1234` for a bare type id."""
        if re.fullmatch(r"\d+-\d+", self.name):
            return "object_" + self.name.replace("-", "_")
        return self.name


_ENGAGEMENT_LINKS = ("deals", "companies")

# Searched on a first load: the objects without links (a search page holds twice a list page) and deals
# (200 + 1 link read per 1,000 vs 10 list pages per 1,000). At medium (seed 3) that is ~740 searches
# (150 s at 5 / s) beside ~5,600 list calls (295 s at 19 / s); engagements stay on list pages.
STANDARD_OBJECTS: tuple[ObjectDef, ...] = (
    ObjectDef("deals", associations=("companies",), stage_properties=True, credit=True, search_first_load=True),
    ObjectDef("contacts", modified_property="lastmodifieddate", search_first_load=True),
    ObjectDef("companies", search_first_load=True),
    ObjectDef("calls", associations=_ENGAGEMENT_LINKS),
    ObjectDef("emails", associations=_ENGAGEMENT_LINKS),
    ObjectDef("meetings", associations=_ENGAGEMENT_LINKS),
    ObjectDef("tasks", associations=_ENGAGEMENT_LINKS),
    ObjectDef("users", search_first_load=True),
    ObjectDef("goal_targets", search_first_load=True),
    ObjectDef("feedback_submissions", associations=("companies",)),
)


def object_defs(extra_objects: list[str]) -> tuple[ObjectDef, ...]:
    """The standard objects plus config's `extra_objects` (custom `p_<name>` or type ids)."""
    known = {o.name for o in STANDARD_OBJECTS}
    extras = tuple(ObjectDef(name) for name in dict.fromkeys(extra_objects) if name not in known)
    return STANDARD_OBJECTS + extras
