"""What normalize noticed but did not refuse, as typed records: the summary groups them by kind and
subject, and only the edges (summary, run details) render them as text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NoteKind = Literal["no_raw_tables", "table_not_loaded", "joined_table_not_loaded", "unknown_alias", "column_absent"]


@dataclass(frozen=True)
class Note:
    """`where` names the source and mapping part (`hs activities[1]`); `table` is the raw table (with its
    dataset for a skipped part), `column` the column or expression that reads NULL."""

    kind: NoteKind
    where: str
    table: str = ""
    column: str = ""
    dataset: str = ""

    def text(self) -> str:
        if self.kind == "no_raw_tables":
            return f"{self.where}: no raw tables yet (run `spm-sync sync {self.where}`); skipped"
        if self.kind == "table_not_loaded":
            return f"{self.where}: raw table {self.dataset}.{self.table} not loaded yet; skipped"
        if self.kind == "joined_table_not_loaded":
            return f"{self.where}: raw table {self.table} not loaded yet ({self.column} reads NULL)"
        if self.kind == "unknown_alias":
            return f"{self.where}: unknown table alias {self.table!r} (column {self.column} reads NULL)"
        return f"{self.where}: column {self.table}.{self.column} not in raw data (reads NULL)"


def summary_lines(notes: list[Note]) -> list[str]:
    """The notes section of the normalize summary: absent columns and skipped tables grouped, others as is."""
    absent = sorted({f"{n.table}.{n.column}" for n in notes if n.kind == "column_absent"})
    unloaded: dict[str, dict[str, None]] = {}  # dataset -> tables, in order of first mention
    for note in notes:
        if note.kind == "table_not_loaded":
            unloaded.setdefault(note.dataset, {})[note.table] = None
    others = [n.text() for n in notes if n.kind not in ("column_absent", "table_not_loaded")]
    if not (others or absent or unloaded):
        return []
    lines = ["notes:", *(f"  {text}" for text in others)]
    lines += [f"  {dataset}: not loaded (yet), skipped: {', '.join(tables)}" for dataset, tables in unloaded.items()]
    if absent:
        shown = ", ".join(absent[:12]) + (f" and {len(absent) - 12} more" if len(absent) > 12 else "")
        lines.append(f"  {len(absent)} mapped column(s) not in the raw data yet (read as NULL): {shown}")
    return lines
