"""Which connector serves which source type (the extract stage's only entry into connectors/)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from spm_sync.errors import ConfigError

SOURCE_FACTORIES = {
    "salesforce": "spm_sync.connectors.salesforce.source:salesforce_source",
    "hubspot": "spm_sync.connectors.hubspot.source:hubspot_source",
    "files": "spm_sync.connectors.files.source:files_source",
}

# The raw tables a source can produce, loaded or not: normalize tells a table not synced yet from a typo.
RAW_TABLES = {
    "salesforce": "spm_sync.connectors.salesforce.source:raw_tables",
    "hubspot": "spm_sync.connectors.hubspot.source:raw_tables",
    "files": "spm_sync.connectors.files.source:raw_tables",
}

# The object names `sync --objects` accepts for a source: a name no chosen source knows is a usage error.
OBJECT_NAMES = {
    "salesforce": "spm_sync.connectors.salesforce.source:object_names",
    "hubspot": "spm_sync.connectors.hubspot.source:object_names",
    "files": "spm_sync.connectors.files.source:object_names",
}

WRITERS = {
    "salesforce": "spm_sync.connectors.salesforce.writer:SalesforceWriter",
    "hubspot": "spm_sync.connectors.hubspot.writer:HubSpotWriter",
}

INSTALLERS = {  # `writeback setup`: creates the fields write-back targets need
    "salesforce": "spm_sync.connectors.salesforce.setup:SalesforceInstaller",
    "hubspot": "spm_sync.connectors.hubspot.setup:HubSpotInstaller",
}


def _load(table: dict[str, str], kind: str) -> Callable[..., Any]:
    try:
        module_name, attr = table[kind].split(":")
    except KeyError:
        raise ConfigError(f"no connector for source type {kind!r}") from None
    return getattr(importlib.import_module(module_name), attr)


def source_factory(kind: str) -> Callable[..., Any]:
    return _load(SOURCE_FACTORIES, kind)


def raw_tables(source: Any) -> set[str]:
    """The raw tables of one configured source (`RAW_TABLES`)."""
    return set(_load(RAW_TABLES, source.type)(source))


def object_names(source: Any) -> list[str]:
    """The objects of one configured source, as `--objects` names them (`OBJECT_NAMES`)."""
    return list(_load(OBJECT_NAMES, source.type)(source))


def writer_class(kind: str) -> Callable[..., Any]:
    return _load(WRITERS, kind)


def installer_class(kind: str) -> Callable[..., Any]:
    return _load(INSTALLERS, kind)
