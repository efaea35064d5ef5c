"""Rich progress bars for long work: per object records and pages, API calls, and (backfills) chunks with ETA."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBars:
    """The callback connectors get as `context.progress(object, records, pages)`, plus two extras the
    stages use: `watch(calls)` shows the run's API call count, `chunks(n)` / `chunk_done()` an ETA bar."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}
        self.pages: dict[str, int] = {}
        self.calls: Any = None
        self.calls_before = 0
        self.calls_task: TaskID | None = None
        self.chunk_task: TaskID | None = None

    def __call__(self, object_name: str, records: int, pages: int) -> None:
        if object_name not in self.tasks:
            self.tasks[object_name] = self.bar.add_task(object_name, total=None, unit="records", extra="")
            self.pages[object_name] = 0
        self.pages[object_name] += pages
        self.bar.update(self.tasks[object_name], advance=records, extra=f"{self.pages[object_name]:,} pages")
        self._show_calls()

    def watch(self, calls: Any) -> None:
        """Follow a run's call counter; counters of earlier runs (backfill chunks) add up."""
        if self.calls is not None and self.calls is not calls:
            self.calls_before += self.calls.total
        self.calls = calls
        if self.calls_task is None:
            self.calls_task = self.bar.add_task("API calls", total=None, unit="calls", extra="")
        self._show_calls()

    def _show_calls(self) -> None:
        if self.calls is not None and self.calls_task is not None:
            self.bar.update(self.calls_task, completed=self.calls_before + self.calls.total)

    def chunks(self, total: int, done: int = 0) -> None:
        self.chunk_task = self.bar.add_task("window chunks", total=total, completed=done, unit="chunks", extra="")

    def chunk_done(self) -> None:
        if self.chunk_task is not None:
            self.bar.advance(self.chunk_task)


@contextmanager
def sync_progress(console: Console) -> Iterator[ProgressBars | None]:
    """Progress bars on a terminal; None (no output) when output is piped or logged."""
    if not console.is_terminal or not sys.stderr.isatty():
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<26}"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f} {task.fields[unit]}"),
        TextColumn("{task.fields[extra]:>12}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        yield ProgressBars(bar)
