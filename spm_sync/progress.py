"""Rich progress bars for long work: one bar per object with records, pages and rate."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def sync_progress(console: Console) -> Iterator[ProgressCallback | None]:
    """Yields `progress(object, records, pages)` (increments) or None when not on a terminal."""
    if not console.is_terminal or not sys.stderr.isatty():
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f} records"),
        TextColumn("{task.fields[pages]:>6} pages"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(object_name: str, records: int, pages: int) -> None:
            if object_name not in tasks:
                tasks[object_name] = bar.add_task(object_name, total=None, pages=0)
            task = tasks[object_name]
            pages_so_far = bar.tasks[task].fields["pages"] if task < len(bar.tasks) else 0
            bar.update(task, advance=records, pages=pages_so_far + pages)

        yield advance
