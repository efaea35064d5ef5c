from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from spm_sync.calls import ApiCalls
from spm_sync.progress import ProgressBars


def test_bars_count_records_pages_calls_and_chunks() -> None:
    with Progress(console=Console(file=io.StringIO())) as bar:
        bars = ProgressBars(bar)
        bars.chunks(3)
        first, second = ApiCalls(), ApiCalls()
        bars.watch(first)
        first.record("query", 4)
        bars("Opportunity", 2000, 1)
        bars.chunk_done()
        bars.watch(second)
        second.record("query", 2)
        bars("Opportunity", 500, 1)
        bars.chunk_done()
        tasks = {t.description: t for t in bar.tasks}
    assert tasks["Opportunity"].completed == 2500
    assert tasks["Opportunity"].fields["extra"] == "2 pages"
    assert tasks["API calls"].completed == 6
    assert (tasks["window chunks"].completed, tasks["window chunks"].total) == (2, 3)
