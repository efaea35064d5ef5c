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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.4g}"
    return str(value)


def write_rows(rows: list[dict[str, Any]], fmt: str, output: Path | None, console: Console) -> None:
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
            table.add_column(name, justify="right" if rows and isinstance(rows[0][name], int | float) else "left")
        for row in rows:
            table.add_row(*(_cell(v) for v in row.values()))
        if output:
            with output.open("w") as handle:
                Console(file=handle, width=200).print(table)
        else:
            console.print(table)
        return
    if output:
        output.write_text(text + ("\n" if not text.endswith("\n") else ""))
    else:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
        sys.stdout.flush()
