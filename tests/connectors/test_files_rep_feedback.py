"""A survey of the sales team as a form tool exports it (CSV or xlsx, its own headers mapped in config):
loaded by the files connector, normalized to feedback of kind `rep` with topic and comment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from spm_sync.config import Config
from spm_sync.extract import sync_source
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.store import open_store

# Google Forms' shape: a Timestamp column, the e-mail question, then one column per question.
HEADERS = ["Timestamp", "Email Address", "How likely are you to recommend working here? (0-10)",
           "What is it about?", "Anything else?"]
ANSWERS = [
    ["2026-01-12 09:30:00", "Ada@Example.com", "9", "Tools", "The new dialer helps"],
    ["2026-01-13 10:00:00", "grace@example.com", "4", "Leads", ""],
]
COLUMNS = {"submitted_at": "Timestamp", "rep_email": "Email Address",
           "score": "How likely are you to recommend working here? (0-10)", "topic": "What is it about?",
           "comment": "Anything else?"}


def _csv(path: Path) -> Path:
    path.write_text("\n".join(",".join(f'"{v}"' for v in row) for row in [HEADERS, *ANSWERS]) + "\n")
    return path


def _xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for stamp, *rest in ANSWERS:  # a spreadsheet holds real date-times and numbers
        sheet.append([datetime.fromisoformat(stamp), rest[0], int(rest[1]), rest[2], rest[3] or None])
    book.save(path)
    return path


def _feedback(tmp_path: Path, export: Path) -> list[tuple[object, ...]]:
    cfg = Config.model_validate({
        "store": {"path": str(tmp_path / "state" / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
        "sources": [{"name": "pulse", "type": "files", "rep_feedback": str(export),
                     "columns": {"rep_feedback": COLUMNS}}],
    })
    with open_store(cfg) as store:
        result = sync_source(cfg, store, "pulse", run=Run(job="sync"))
        assert result.records == {"rep_feedback": 2, "rejected_rep_feedback": 0}
        normalize(cfg, store, Run(job="normalize"))
        return store.fetchall(
            "SELECT feedback_id, kind, score, topic, comment, submitted_at FROM spm.feedback ORDER BY submitted_at"
        )


EXPECTED = [
    ("pulse:ada@example.com 2026-01-12 09:30:00 Tools", "rep", 9.0, "Tools", "The new dialer helps",
     datetime(2026, 1, 12, 9, 30)),
    ("pulse:grace@example.com 2026-01-13 10:00:00 Leads", "rep", 4.0, "Leads", None, datetime(2026, 1, 13, 10)),
]


def test_a_form_export_in_csv_becomes_rep_feedback(tmp_path: Path) -> None:
    assert _feedback(tmp_path, _csv(tmp_path / "pulse.csv")) == EXPECTED


def test_the_same_export_as_xlsx(tmp_path: Path) -> None:
    assert _feedback(tmp_path, _xlsx(tmp_path / "pulse.xlsx")) == EXPECTED
