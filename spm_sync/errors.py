"""Project exceptions.

Every error names where it happened (source, object, record id, field) so the CLI can print one
readable line and ops can find the record without a traceback.
"""

from __future__ import annotations

from typing import Any


class SpmError(Exception):
    """Base class: a failure the CLI reports as one line, with a non-zero exit code."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        object: str | None = None,
        record_id: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.object = object
        self.record_id = record_id
        self.field = field

    def location(self) -> str:
        parts = [
            f"{label}={value}"
            for label, value in (
                ("source", self.source),
                ("object", self.object),
                ("record", self.record_id),
                ("field", self.field),
            )
            if value
        ]
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class ConfigError(SpmError):
    """The configuration (or a mapping / KPI file) is invalid: a usage error, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.key = key

    def __str__(self) -> str:
        return ": ".join(p for p in (self.file, self.key, self.message) if p)


class StoreError(SpmError):
    """The store cannot be opened, migrated or written."""


class ConnectorError(SpmError):
    """A CRM API answered with an error we cannot recover from."""


class Unreachable(ConnectorError):
    """The CRM cannot be reached in a way a retry does not fix (TLS trust, closed port, unknown host)."""


class WriteUnconfirmed(ConnectorError):
    """A write failed in a way that leaves open whether the CRM applied it (connection reset or timed
    out after sending, 5xx, cut-off answer): it is not sent again blindly; the caller reads back."""


class AuthError(ConnectorError):
    """Credentials were rejected (after one refresh attempt where possible)."""


class BudgetExhausted(ConnectorError):
    """The per-run API budget or the org's daily reserve would be crossed: stop cleanly."""


class RateLimited(ConnectorError):
    """The CRM answered 429 / request-limit; retriable after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **where: str | None) -> None:
        super().__init__(message, **where)
        self.retry_after = retry_after


class LockBusy(SpmError):
    """Another process holds the lock of the stage we want to run."""


class StoreBusy(StoreError, LockBusy):
    """The store is held by another process (a DuckDB file has one writer process at a time)."""


class MappingError(ConfigError):
    """A mapping or KPI definition file is invalid."""


class RunFailed(SpmError):
    """Parts of a run failed (e.g. some sources of a sync) while the others ran: one line per failed part.

    `failures` keeps each part's exception (the scheduler tells a busy lock from a real failure);
    `results` what the parts that succeeded returned. The exit code is the gravest of the parts'.
    """

    def __init__(self, failures: dict[str, BaseException], lines: list[str], results: Any = None) -> None:
        super().__init__("\n".join(lines))
        self.failures = failures
        self.results = results
        self.exit_code = max((getattr(exc, "exit_code", 1) for exc in failures.values()), default=1)


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps, outermost first: `__cause__`/`__context__` and dlt's
    `PipelineStepFailed.exception`, so the root of a failure deep inside a dlt step can be named."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        wrapped = getattr(current, "exception", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__ or current.__context__
    return chain


def find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` in `exc`'s chain, or None."""
    return next((c for c in causes(exc) if isinstance(c, kind)), None)


def root_cause(exc: BaseException) -> BaseException:
    """Our own error in the chain where there is one (it names source/object/field), else the innermost."""
    return find_cause(exc, SpmError) or causes(exc)[-1]


def one_line(exc: BaseException, *, named_source: bool = False) -> str:
    """A failure as one readable line: our own error where there is one, else the innermost exception.

    `named_source`: the caller already names the source, so it is left out of the location.
    """
    ours = find_cause(exc, SpmError)
    if isinstance(ours, SpmError) and not isinstance(ours, ConfigError):
        where = " ".join(p for p in ours.location().split() if not (named_source and p.startswith("source=")))
        text = f"{where}: {ours.message}" if where else ours.message
    elif ours is not None:
        text = str(ours)
    else:
        root = causes(exc)[-1]
        text = f"{type(root).__name__}: {root}"
    return " ".join(text.split())
