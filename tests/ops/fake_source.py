"""A tiny dlt source standing in for a CRM connector in operations tests (no HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dlt

from spm_sync.connectors.context import ExtractContext

BASE = datetime(2025, 1, 1)
ROWS: list[dict[str, Any]] = [
    {"id": i, "amount": float(i * 10), "updated_at": BASE + timedelta(days=3 * i)} for i in range(100)
]
NEW_ROWS: list[dict[str, Any]] = [  # rows a later sync finds (changed after the cursor)
    {"id": i, "amount": float(i * 10), "updated_at": BASE + timedelta(days=400 + i)} for i in range(100, 110)
]
FAIL_AFTER: dict[str, int | None] = {"rows": None}


def fake_source(config: Any, context: ExtractContext) -> Any:
    @dlt.resource(name="items", primary_key="id", write_disposition="merge")
    def items(
        cursor: Any = dlt.sources.incremental("updated_at", initial_value=datetime(2000, 1, 1)),
    ) -> Any:
        rows = ROWS
        if context.window:
            start, end = context.window
            rows = [r for r in rows if start <= r["updated_at"] < end]
        for n, row in enumerate(sorted(rows, key=lambda r: r["updated_at"])):
            if FAIL_AFTER["rows"] is not None and n >= FAIL_AFTER["rows"]:
                raise RuntimeError("connection reset by peer")
            context.calls.record("items.list")
            yield row

    @dlt.source(name="fake")
    def source() -> Any:
        return items

    return source()
