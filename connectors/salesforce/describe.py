"""Describe results cached between runs, and the choice of fields to pull from them.

Why a cache: describe calls cost API budget and an org's schema rarely changes. A cached describe
younger than `settings.DESCRIBE_MAX_AGE_S` is used as it is (no call at all); an older one is
revalidated with `If-Modified-Since` (304 = unchanged). Missing objects are cached too, so an org
without, say, OpportunitySplit costs nothing on later runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spm_sync.connectors.salesforce import settings
from spm_sync.connectors.salesforce.client import SalesforceApiError, SalesforceClient
from spm_sync.connectors.salesforce.records import Field

MISSING_STATUSES = (400, 403, 404)


@dataclass(frozen=True)
class ObjectDescribe:
    """What the connector needs of one describe: the object's fields (name, type) and flags."""

    name: str
    fields: tuple[Field, ...]
    queryable: bool = True
    missing_reason: str | None = None

    @property
    def missing(self) -> bool:
        return self.missing_reason is not None

    def has(self, field_name: str) -> bool:
        return any(f.name == field_name for f in self.fields)


def slim(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a describe kept in the cache (field names and types, queryable)."""
    return {
        "name": body.get("name"),
        "queryable": bool(body.get("queryable", True)),
        "fields": [
            {"name": f["name"], "type": f.get("type", "string")}
            for f in body.get("fields") or []
            if isinstance(f, dict) and f.get("name") and not f.get("deprecatedAndHidden")
        ],
    }


def from_cached(name: str, entry: dict[str, Any]) -> ObjectDescribe:
    if entry.get("missing_reason"):
        return ObjectDescribe(name, (), queryable=False, missing_reason=entry["missing_reason"])
    body = entry["describe"]
    fields = tuple(Field(f["name"], f["type"]) for f in body["fields"])
    return ObjectDescribe(body.get("name") or name, fields, queryable=body["queryable"])


class DescribeCache:
    """Describe results on disk under `<cache_dir>/describe/`, one JSON file per object."""

    def __init__(self, client: SalesforceClient, cache_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.folder = cache_dir / "describe"
        self.clock = clock

    def _path(self, object_name: str) -> Path:
        return self.folder / f"{object_name}.json"

    def _load(self, object_name: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(object_name).read_text())
        except (OSError, ValueError):
            return None

    def _save(self, object_name: str, entry: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(object_name)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry))
        tmp.replace(path)

    def invalidate(self, object_name: str) -> None:
        self._path(object_name).unlink(missing_ok=True)

    def get(self, object_name: str) -> ObjectDescribe:
        """The object's describe: from the cache when fresh, else (conditionally) from the API."""
        cached = self._load(object_name)
        now = self.clock()
        if cached is not None and now - cached.get("fetched_at", 0) < settings.DESCRIBE_MAX_AGE_S:
            return from_cached(object_name, cached)
        since = cached.get("last_modified") if cached and not cached.get("missing_reason") else None
        try:
            body = self.client.describe(object_name, if_modified_since=since)
        except SalesforceApiError as exc:
            if exc.status not in MISSING_STATUSES:
                raise
            reason = f"{exc.error_code or exc.status}: not in this org or not readable by this user"
            entry = {"fetched_at": now, "missing_reason": reason}
            self._save(object_name, entry)
            return from_cached(object_name, entry)
        if body is None:  # 304: only a conditional describe (with `since`) answers that
            assert cached is not None
            self._save(object_name, {**cached, "fetched_at": now})
            return from_cached(object_name, cached)
        entry = {"fetched_at": now, "last_modified": body.get("_last_modified"), "describe": slim(body)}
        self._save(object_name, entry)
        return from_cached(object_name, entry)


def _lookup(mapping: dict[str, list[str]], object_name: str) -> list[str] | None:
    for key, value in mapping.items():
        if key.lower() == object_name.lower():
            return value
    return None


def select_fields(
    describe: ObjectDescribe,
    *,
    required: Sequence[str],
    allow: dict[str, list[str]],
    deny: dict[str, list[str]],
    warn: Callable[[str], None],
) -> list[Field]:
    """Readable, non-compound, non-binary fields, narrowed by the config's allow/deny lists.

    `required` fields (Id, cursor, IsDeleted) are always kept; allow-listed names the describe lacks
    are reported (once per run) and skipped.
    """
    usable = [f for f in describe.fields if f.type not in settings.SKIPPED_FIELD_TYPES]
    by_lower = {f.name.lower(): f for f in usable}
    keep_lower = {r.lower() for r in required}
    allowed = _lookup(allow, describe.name)
    if allowed is not None:
        for name in allowed:
            if name.lower() not in by_lower:
                warn(f"{describe.name}.{name}: field not found or not readable; skipped")
        keep_lower |= {a.lower() for a in allowed}
        usable = [f for f in usable if f.name.lower() in keep_lower]
    denied = {d.lower() for d in (_lookup(deny, describe.name) or [])} - {r.lower() for r in required}
    usable = [f for f in usable if f.name.lower() not in denied]
    ids = [f for f in usable if f.name == "Id"]
    return ids + [f for f in usable if f.name != "Id"]
