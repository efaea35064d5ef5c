"""Project exceptions.

Every error names where it happened (source, object, record id, field) so the CLI can print one
readable line and ops can find the record without a traceback.
"""

from __future__ import annotations


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


class MappingError(ConfigError):
    """A mapping or KPI definition file is invalid."""
