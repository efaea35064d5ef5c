"""Structured logging: readable lines by default, one JSON object a line with `--log-format json`.

Stages log through `log_event(stage, message, **fields)`; the current run id and job are attached
from a context variable so every line of a run can be found by its id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER = logging.getLogger("spm_sync")
_run_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("spm_run", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "spm", {}))
        if record.exc_info and record.exc_info[1] is not None:
            payload["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "spm", {})
        extras = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("run_id",) and v is not None)
        run = fields.get("run_id")
        head = f"{datetime.fromtimestamp(record.created).strftime('%H:%M:%S')} {record.levelname:<7}"
        return " ".join(p for p in (head, f"[{run[:8]}]" if run else "", record.getMessage(), extras) if p)


class ForeignRecords(logging.Handler):
    """Hands records of other libraries (dlt, urllib3, Python warnings) to our logger.

    Why a forwarding handler: dlt re-creates its logger at every pipeline run and sets its own
    pipe-delimited formatter on the first handler it finds there; this handler ignores formatters,
    so with `--log-format json` dlt's lines come out as JSON too, tagged with the current run.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, int, str]] = set()

    def setFormatter(self, fmt: logging.Formatter | None) -> None:  # noqa: N802 - logging's API
        """Ignored: our own handler formats every line."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno > logging.DEBUG and any(p.search(message) for p in DEBUG_ONLY):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        key = (record.name, record.levelno, message)
        if record.levelno < LOGGER.getEffectiveLevel() or key in self.seen:  # --log-level applies; once each
            return
        self.seen.add(key)
        record.spm = {**(_run_context.get() or {}), "logger": record.name}
        LOGGER.handle(record)


# dlt warnings that tell an operator nothing they can act on, shown with --log-level DEBUG only: a
# low-resolution cursor shared by many rows (the deduplication state dlt keeps for it is small for our
# objects), and naive vs aware timestamps (dlt reads naive values as UTC, which is what we mean).
DEBUG_ONLY = (
    re.compile(r"Large number of records .* sharing the same value of cursor field"),
    re.compile(r"differ in timezone awareness"),
)


FOREIGN_LOGGERS = ("dlt", "urllib3", "simple_salesforce", "apscheduler", "py.warnings")


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Our lines at `level`; other libraries' warnings and errors, in the same format, once each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(level.upper())
    LOGGER.propagate = False
    forward = ForeignRecords()
    logging.captureWarnings(True)
    logging.getLogger().handlers[:] = [forward]
    for name in FOREIGN_LOGGERS:
        foreign = logging.getLogger(name)
        foreign.handlers[:] = [forward]
        foreign.propagate = False
        foreign.setLevel(logging.WARNING)


def bind_run(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    return _run_context.set({**(_run_context.get() or {}), **fields})


def unbind_run(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _run_context.reset(token)


def log_event(message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    LOGGER.log(level, message, extra={"spm": {**(_run_context.get() or {}), **fields}})
