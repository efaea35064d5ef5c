"""The file exports the files connector reads: per kind, its columns, their types and which are required.

Why a table: the format of each export is documented, checked and typed from one place; a new kind
of export is one entry. Column names are matched case-insensitively, spaces read as underscores.
`key` names what one row is about (a rep or team x period): two rows with the same key and different
values contradict each other, and both are rejected rather than one silently winning or being summed.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, EMAIL, NUMBER, DATE, TIMESTAMP, BOOL = "text", "email", "number", "date", "timestamp", "bool"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    required: bool = False
    non_negative: bool = False  # a negative amount or target cannot be right: the row is rejected
    fold_case: bool = False  # compared case-insensitively when looking for duplicates (emails always are)


@dataclass(frozen=True)
class ExportKind:
    """One kind of export (a `FilesSource` option of the same name); lands in raw table `name`."""

    name: str
    columns: tuple[Column, ...]
    one_of: tuple[str, ...] = ()  # at least one of these must be filled on every row
    ordered: tuple[str, str] | None = None  # (start, end): end must not be before start
    currency_column: str | None = None  # empty cells get the source's `currency`
    key: tuple[str, ...] = ()  # same key, different values: a conflict (every such row is rejected)


EXPORTS: tuple[ExportKind, ...] = (
    ExportKind(
        "quotas",
        (
            Column("rep_email", EMAIL), Column("team"), Column("period_start", DATE, True),
            Column("period_end", DATE, True), Column("amount", NUMBER, True, True), Column("currency"),
            Column("measure"),
        ),
        one_of=("rep_email", "team"),
        ordered=("period_start", "period_end"),
        currency_column="currency",
        key=("rep_email", "team", "period_start", "period_end", "measure"),
    ),
    ExportKind(
        "activity_targets",
        (
            Column("rep_email", EMAIL), Column("team"), Column("period_start", DATE, True),
            Column("period_end", DATE, True), Column("kind", TEXT, True, fold_case=True),
            Column("target", NUMBER, True, True),
        ),
        one_of=("rep_email", "team"),
        ordered=("period_start", "period_end"),
        key=("rep_email", "team", "period_start", "period_end", "kind"),
    ),
    # valid_from / valid_to (inclusive, like quotas' period_end): dated membership; empty = current membership.
    ExportKind(
        "teams",
        (
            Column("team", TEXT, True), Column("rep_email", EMAIL), Column("parent_team"),
            Column("valid_from", DATE), Column("valid_to", DATE),
        ),
        ordered=("valid_from", "valid_to"),
        key=("team", "rep_email", "valid_from"),
    ),
    ExportKind(
        "accounts",
        (Column("id", TEXT, True), Column("name"), Column("owner_email", EMAIL), Column("created_at", TIMESTAMP)),
        key=("id",),
    ),
    ExportKind(
        "opportunities",
        (
            Column("id", TEXT, True), Column("account_id"), Column("owner_email", EMAIL), Column("name"),
            Column("stage", TEXT, True), Column("amount", NUMBER, non_negative=True), Column("currency"),
            Column("recurring_amount", NUMBER, non_negative=True), Column("deal_type"),
            Column("created_at", TIMESTAMP), Column("close_date", DATE),
        ),
        currency_column="currency",
        key=("id",),
    ),
    # A survey of the sales team (Google Forms / Typeform / Microsoft Forms export; `columns:` in the
    # source maps the form's headers onto these): one answer per row, comments stored, never written back.
    ExportKind(
        "rep_feedback",
        (
            Column("rep_email", EMAIL, True), Column("submitted_at", TIMESTAMP, True),
            Column("score", NUMBER, True, True), Column("topic"), Column("comment"),
        ),
        key=("rep_email", "submitted_at", "topic"),
    ),
)
EXPORTS_BY_NAME = {kind.name: kind for kind in EXPORTS}

# Columns the connector adds: where each row came from (loaded rows and rejected rows), and on rejected
# rows (raw table `rejected_<kind>`, every cell as the file gave it) which rule refused which cell.
SOURCE_FILE, SOURCE_LINE = "source_file", "source_line"
REJECTED_COLUMNS = ("rejected_check", "rejected_column", "rejected_value", "rejected_reason")


def rejected_table(kind: ExportKind) -> str:
    return f"rejected_{kind.name}"
