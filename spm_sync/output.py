"""Writing result rows as a rich table, JSON, CSV or Parquet."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spm_sync.errors import ConfigError


def _cell(value: Any, unit: str | None = None) -> str:
    if value is None:
        return ""
    if unit == "ratio" and isinstance(value, int | float):
        return f"{value * 100:,.1f}%"
    if unit == "currency" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.4g}"
    return str(value)


def _unit(row: dict[str, Any], column: str, units: dict[str, str]) -> str | None:
    """A ratio shows as a percentage: a `value` by its row's metric, or a column named after a metric."""
    if column == "value":
        return units.get(str(row.get("metric")))
    return units.get(column)


def write_rows(
    rows: list[dict[str, Any]], fmt: str, output: Path | None, console: Console, units: dict[str, str] | None = None
) -> None:
    """`units` (metric -> unit) makes the table format show ratios as percentages; data formats keep raw values."""
    if fmt == "parquet":
        if output is None:
            raise ConfigError("--format parquet needs --output FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), output)
        console.print(f"wrote {len(rows)} rows to {output}")
        return
    if fmt == "json":
        text = json.dumps(rows, default=str)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        table = Table(show_lines=False)
        for name in rows[0] if rows else ["(no rows)"]:
            numeric = rows and any(isinstance(row[name], int | float) for row in rows[:50])
            table.add_column(name, justify="right" if numeric else "left", overflow="fold")
        for row in rows:
            table.add_row(*(_cell(v, _unit(row, k, units or {})) for k, v in row.items()))
        if output:
            with output.open("w") as handle:
                Console(file=handle, width=200).print(table)
        else:
            if not console.is_terminal:  # piped: room for names and metric headers, never cut
                console.width = max(console.width, 200)
            console.print(table)
        return
    if output:
        output.write_text(text + ("\n" if not text.endswith("\n") else ""))
    else:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
        sys.stdout.flush()


def print_table(console: Console, table: Table) -> None:
    """Piped output (cron mail, `| less`) is as wide as the table needs, nothing cut at 80 columns;
    a terminal keeps its own width."""
    if console.is_terminal:
        console.print(table)
        return
    natural = console.measure(table, options=console.options.update_width(1000)).maximum
    width, console.width = console.width, max(console.width, natural)  # print(width=) is capped at the console's
    try:
        console.print(table)
    finally:
        console.width = width
