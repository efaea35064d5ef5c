"""What `spm-sync writeback` prints: the plan (dry run) or the outcome, and the counts per target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spm_sync.writeback.model import Step, TargetReport

PLAN_ROWS = 50  # per target: changed / skipped fields listed before "... and N more"
ACTION_LABEL = {
    "send": "[green]send[/]",
    "in_sync": "in sync",
    "conflict": "[yellow]conflict: skipped[/]",
    "unchanged": "[dim]unchanged[/]",
}


def _value(value: Any) -> str:
    return "-" if value is None or value == "" else escape(str(value))


@dataclass
class WritebackResult:
    """The reports of one write-back run, rendered for a terminal by `render`."""

    reports: list[TargetReport] = field(default_factory=list)
    dry_run: bool = False

    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for report in self.reports:
            for key, value in report.counts().items():
                totals[key] = totals.get(key, 0) + value
        return totals

    def render(self, console: Console) -> None:
        for report in self.reports:
            if self.dry_run or report.count("conflict"):
                _plan_table(console, report, self.dry_run)
            if report.rejections:
                _rejections_table(console, report)
            if report.invalid:
                _invalid_table(console, report)
            if report.held_back:
                _invalid_table(console, report, held_back=True)
            if report.sent_flagged:
                console.print(f"{report.name}: {report.sent_flagged} values computed without rejected input rows "
                              "sent anyway (on_rejected_inputs: send)")
        console.print(self._summary())

    def _summary(self) -> Table:
        title = "write-back plan (dry run: nothing sent)" if self.dry_run else "write-back"
        table = Table(title=title)
        for name in ("target", "object", "period", "to send" if self.dry_run else "sent", "unchanged",
                     "conflicts", "rejected", "invalid", "held back", "API calls"):
            table.add_column(name, justify="left" if name in ("target", "object", "period") else "right")
        for report in self.reports:
            counts = report.counts()
            table.add_row(
                report.name, f"{report.source}.{report.object}", report.period,
                str(counts["planned"] if self.dry_run else counts["sent"]), str(counts["unchanged"]),
                str(counts["conflicts"]), str(counts["rejected"]), str(counts["invalid"]),
                str(counts["held_back"]), str(sum(report.calls.values())),
            )
        return table


def _plan_rows(report: TargetReport) -> list[Step]:
    order = {"send": 0, "conflict": 1, "in_sync": 2, "unchanged": 3}
    return sorted((s for s in report.steps if s.action != "unchanged"), key=lambda s: order[s.action])


def _plan_table(console: Console, report: TargetReport, dry_run: bool) -> None:
    rows = _plan_rows(report)
    title = f"{report.name}: {report.object} {report.mode}, period {report.period}"
    table = Table(title=title)
    for name in ("record", "entity", "field", "current", "new", "action", "why"):
        table.add_column(name)
    shown = rows if dry_run else [s for s in rows if s.action == "conflict"]
    for step in shown[:PLAN_ROWS]:
        table.add_row(
            escape(str(step.record_id or step.slot.record_key)), escape(step.slot.entity_id), step.slot.field,
            _value(step.current), _value(step.slot.value), ACTION_LABEL[step.action], escape(step.reason or ""),
        )
    console.print(table)
    more = len(shown) - PLAN_ROWS
    if more > 0:
        console.print(f"... and {more} more")
    unchanged = report.count("unchanged")
    if unchanged:
        console.print(f"{unchanged} field values unchanged since the last successful write (not read, not sent)")


def _rejections_table(console: Console, report: TargetReport) -> None:
    table = Table(title=f"{report.name}: rejected by the CRM (retried next run)")
    for name in ("record", "fields", "code", "message"):
        table.add_column(name)
    for rejection in report.rejections[:PLAN_ROWS]:
        table.add_row(escape(rejection.record), ", ".join(rejection.fields), escape(rejection.code or ""),
                      escape(rejection.message or ""))
    console.print(table)


def _invalid_table(console: Console, report: TargetReport, held_back: bool = False) -> None:
    title = "held back: computed without rejected input rows (not sent)" if held_back else "invalid rows (not sent)"
    table = Table(title=f"{report.name}: {title}")
    for name in ("entity", "metric", "field", "reason"):
        table.add_column(name)
    for row in (report.held_back if held_back else report.invalid)[:PLAN_ROWS]:
        table.add_row(escape(row.entity_id), row.metric or "", row.field or "", escape(row.reason))
    console.print(table)
