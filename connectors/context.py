"""What the extract stage hands every connector: call accounting, cache dir, object filter, window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from spm_sync.calls import ApiCalls
from spm_sync.errors import BudgetExhausted


def _ignore(*_: object) -> None:
    return None


@dataclass
class ExtractContext:
    """Per-run inputs of a connector's dlt source.

    `window` set means a backfill: pull records modified in [start, end) without touching the
    incremental cursors. `progress(object, records, pages)` feeds the CLI's progress bars.
    """

    calls: ApiCalls
    cache_dir: Path
    objects: list[str] | None = None
    window: tuple[datetime, datetime] | None = None
    full: bool = False
    allow_empty: bool = False  # files: a header-only export may replace (delete) the stored rows
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    progress: Callable[[str, int, int], None] = _ignore
    warn: Callable[[str], None] = _ignore
    # Sources that load whole files every run: per object, a digest of what it loaded, so a reload of
    # identical content is no change to the raw data (extract.py, fingerprint.py).
    digests: dict[str, str] = field(default_factory=dict)

    def budget_stop(self, what: str, exc: BudgetExhausted) -> None:
        """A connector that stops cleanly on the API budget says so here: the run reports it as
        `stopped_by_budget` (whether the limit was ours or the CRM's) and warns which object stopped."""
        self.calls.mark_exhausted(exc.message)
        self.warn(f"{what} stopped by the API budget (resumes next run): {exc.message}")

    def wants(self, object_name: str) -> bool:
        return self.objects is None or object_name.lower() in {o.lower() for o in self.objects}
