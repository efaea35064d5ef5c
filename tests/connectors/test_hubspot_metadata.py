"""MetadataCache: cached definitions are used while fresh, read again when expired or refreshed."""

from __future__ import annotations

from pathlib import Path

from spm_sync.connectors.hubspot.metadata import MetadataCache
from tests.clock import ManualClock


def test_fresh_expired_and_refreshed(tmp_path: Path) -> None:
    clock = ManualClock(1_000.0)
    answers = iter([["a"], ["a", "b"], ["a", "b", "c"]])
    reads: list[list[str]] = []

    def fetch() -> list[str]:
        reads.append(next(answers))
        return reads[-1]

    cache = MetadataCache(tmp_path, clock=clock, max_age_s=60)
    assert cache.get("deals.properties", fetch) == (["a"], True)
    clock.now += 59
    # a new instance (the next run) reads the file
    assert MetadataCache(tmp_path, clock=clock, max_age_s=60).get("deals.properties", fetch) == (["a"], False)
    clock.now += 1
    assert cache.get("deals.properties", fetch) == (["a", "b"], True)
    assert cache.get("deals.properties", fetch, refresh=True) == (["a", "b", "c"], True)
    assert cache.get("deals.properties", fetch) == (["a", "b", "c"], False)
    assert len(reads) == 3


def test_unreadable_cache_file_is_read_again(tmp_path: Path) -> None:
    cache = MetadataCache(tmp_path, clock=ManualClock(1_000.0), max_age_s=60)
    (tmp_path / "hubspot_metadata").mkdir()
    (tmp_path / "hubspot_metadata" / "deals.pipelines.json").write_text("{not json")
    assert cache.get("deals.pipelines", lambda: [{"id": "default"}]) == ([{"id": "default"}], True)
