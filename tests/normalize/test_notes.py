from __future__ import annotations

from spm_sync.normalize.notes import Note, summary_lines


def test_summary_groups_absent_columns_and_skipped_tables_and_lists_the_rest() -> None:
    notes = [
        Note("column_absent", "hs deals", "deals", "amount"),
        Note("table_not_loaded", "hs activities[1]", "emails", dataset="raw_hs"),
        Note("column_absent", "sf opportunities", "opportunity", "amount"),
        Note("no_raw_tables", "erp"),
        Note("table_not_loaded", "hs activities[2]", "calls", dataset="raw_hs"),
        Note("column_absent", "hs leads", "deals", "amount"),
        Note("unknown_alias", "sf activities", "o", '"o"."Id"'),
        Note("joined_table_not_loaded", "hs deals", "owners", '"o"."email"'),
    ]
    assert summary_lines(notes) == [
        "notes:",
        "  erp: no raw tables yet (run `spm-sync sync erp`); skipped",
        """  sf activities: unknown table alias 'o' (column "o"."Id" reads NULL)""",
        '  hs deals: raw table owners not loaded yet ("o"."email" reads NULL)',
        "  raw_hs: not loaded (yet), skipped: emails, calls",
        "  2 mapped column(s) not in the raw data yet (read as NULL): deals.amount, opportunity.amount",
    ]


def test_no_notes_no_section() -> None:
    assert summary_lines([]) == []


def test_absent_columns_beyond_twelve_are_counted() -> None:
    notes = [Note("column_absent", "f rows", "rows", f"c{i:02d}") for i in range(14)]
    assert summary_lines(notes)[-1] == (
        "  14 mapped column(s) not in the raw data yet (read as NULL): "
        + ", ".join(f"rows.c{i:02d}" for i in range(12)) + " and 2 more"
    )
