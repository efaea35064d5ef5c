"""The file exports the files connector reads: per kind, its columns, their types and which are required.

Why a table: the format of each export is documented, checked and typed from one place; a new kind
of export is one entry. Column names are matched case-insensitively, spaces read as underscores.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, EMAIL, NUMBER, DATE, TIMESTAMP, BOOL = "text", "email", "number", "date", "timestamp", "bool"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    required: bool = False


@dataclass(frozen=True)
class ExportKind:
    """One kind of export (a `FilesSource` option of the same name); lands in raw table `name`."""

    name: str
    columns: tuple[Column, ...]
    one_of: tuple[str, ...] = ()  # at least one of these must be filled on every row
    ordered: tuple[str, str] | None = None  # (start, end): end must not be before start
    currency_column: str | None = None  # empty cells get the source's `currency`


EXPORTS: tuple[ExportKind, ...] = (
    ExportKind(
        "quotas",
        (
            Column("rep_email", EMAIL), Column("team"), Column("period_start", DATE, True),
            Column("period_end", DATE, True), Column("amount", NUMBER, True), Column("currency"),
            Column("measure"),
        ),
        one_of=("rep_email", "team"),
        ordered=("period_start", "period_end"),
        currency_column="currency",
    ),
    ExportKind(
        "activity_targets",
        (
            Column("rep_email", EMAIL), Column("team"), Column("period_start", DATE, True),
            Column("period_end", DATE, True), Column("kind", TEXT, True), Column("target", NUMBER, True),
        ),
        one_of=("rep_email", "team"),
        ordered=("period_start", "period_end"),
    ),
    # valid_from / valid_to (inclusive, like quotas' period_end): dated membership; empty = current membership.
    ExportKind(
        "teams",
        (
            Column("team", TEXT, True), Column("rep_email", EMAIL), Column("parent_team"),
            Column("valid_from", DATE), Column("valid_to", DATE),
        ),
        ordered=("valid_from", "valid_to"),
    ),
    ExportKind(
        "accounts",
        (Column("id", TEXT, True), Column("name"), Column("owner_email", EMAIL), Column("created_at", TIMESTAMP)),
    ),
    ExportKind(
        "opportunities",
        (
            Column("id", TEXT, True), Column("account_id"), Column("owner_email", EMAIL), Column("name"),
            Column("stage", TEXT, True), Column("amount", NUMBER), Column("currency"),
            Column("recurring_amount", NUMBER), Column("deal_type"), Column("created_at", TIMESTAMP),
            Column("close_date", DATE),
        ),
        currency_column="currency",
    ),
)
EXPORTS_BY_NAME = {kind.name: kind for kind in EXPORTS}
