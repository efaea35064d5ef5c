"""First loads take associations inline from list pages: the same store as reading them in v4 batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spm_sync.sandbox import Sandbox
from tests.connectors.test_hubspot_source import Harness

LINK_COLUMNS = "from_object, from_id, to_object, to_id, association_type_id, association_category, association_label"
MANY = 150  # more companies than a list page carries inline for one deal (100)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, scale="small", rate_limit=1000, search_rate_limit=50) as sb:
        yield sb


def links(harness: Harness) -> list[tuple[Any, ...]]:
    return harness.rows(f"SELECT {LINK_COLUMNS} FROM raw_hs.associations ORDER BY ALL")


def test_inline_first_load_stores_what_v4_batch_reads_store(sandbox: Sandbox, tmp_path: Path) -> None:
    portal = sandbox.hubspot.portal
    crowded = int(portal.ids("deals")[0])
    companies = np.array(portal.ids("companies")[:MANY], np.int64)
    linked = portal.associations.targets("deals", crowded, "companies")[0]
    extra = companies[~np.isin(companies, linked)]
    portal.associations.add_many("deals", np.full(len(extra), crowded), "companies", extra)
    objects = ["deals", "calls"]

    inline = Harness(sandbox.hubspot, tmp_path / "inline", {})
    first = inline.sync(objects=objects)
    batched = Harness(sandbox.hubspot, tmp_path / "batched", {})  # a backfill pages by search: v4 reads only
    batched.sync(objects=objects, window=(datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC)))

    got, expected = links(inline), links(batched)
    assert got == expected
    assert {(r[0], r[2]) for r in got} == {("deals", "companies"), ("calls", "deals"), ("calls", "companies")}
    crowded_companies = {r[3] for r in got if r[0] == "deals" and r[1] == str(crowded)}
    assert len(crowded_companies) == len(set(linked.tolist()) | set(companies.tolist()))
    families = first.api_calls["by_family"]
    assert families.get("associations.deals.companies.batch.read") == 1  # only the crowded deal, read again
    assert not any(f.startswith("associations.calls") and f.endswith(".batch.read") for f in families)
    assert families["associations.deals.companies.types"] == 2  # v3 type names + v4 labels, once per pair
