"""First loads take associations inline from list pages (searched objects by v4 batch reads): the same store
as reading them all in v4 batches."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spm_sync.sandbox import Sandbox
from tests.connectors.test_hubspot_source import Harness

LINK_COLUMNS = "from_object, from_id, to_object, to_id, association_type_id, association_category, association_label"
MANY = 150  # more companies than a list page carries inline for one call (100)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, scale="small", rate_limit=1000, search_rate_limit=50) as sb:
        yield sb


def links(harness: Harness) -> list[tuple[Any, ...]]:
    return harness.rows(f"SELECT {LINK_COLUMNS} FROM raw_hs.associations ORDER BY ALL")


def test_inline_first_load_stores_what_v4_batch_reads_store(sandbox: Sandbox, tmp_path: Path) -> None:
    portal = sandbox.hubspot.portal
    crowded = int(portal.ids("calls")[0])
    companies = np.array(portal.ids("companies")[:MANY], np.int64)
    linked = portal.associations.targets("calls", crowded, "companies")[0]
    extra = companies[~np.isin(companies, linked)]
    portal.associations.add_many("calls", np.full(len(extra), crowded), "companies", extra)
    objects = ["deals", "calls"]

    inline = Harness(sandbox.hubspot, tmp_path / "inline", {})
    first = inline.sync(objects=objects)
    batched = Harness(sandbox.hubspot, tmp_path / "batched", {})  # a backfill pages by search: v4 reads only
    batched.sync(objects=objects, window=(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC)))

    got, expected = links(inline), links(batched)
    assert got == expected
    assert {(r[0], r[2]) for r in got} == {("deals", "companies"), ("calls", "deals"), ("calls", "companies")}
    crowded_companies = {r[3] for r in got if r[:3] == ("calls", str(crowded), "companies")}
    assert len(crowded_companies) == len(set(linked.tolist()) | set(companies.tolist()))
    families = first.api_calls["by_family"]
    assert families.get("associations.calls.companies.batch.read") == 1  # only the crowded call, read again
    assert "associations.calls.deals.batch.read" not in families
    assert families["associations.calls.companies.types"] == 2  # v3 type names + v4 labels, once per pair
    # deals are searched on a first load (search pages carry no links): v4 reads of 1,000 ids
    assert families["associations.deals.companies.batch.read"] == math.ceil(len(portal.ids("deals")) / 1000)
