"""`spm-sync check`: is everything in place for a run? Config, mappings, store, sources, write-back fields."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from spm_sync.calls import ApiCalls
from spm_sync.config import Config, FilesSource, HubSpotSource, SalesforceSource, config_errors, load_config
from spm_sync.errors import SpmError


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    usage: bool = False  # a config or mapping problem: `check` exits 2 (not 1) when one fails


def _budget(calls: ApiCalls) -> str:
    if calls.daily_max:
        remaining = calls.daily_max - (calls.daily_used or 0)
        return f"API budget: {remaining:,} of {calls.daily_max:,} daily calls left"
    return "API budget: not reported"


def _salesforce(source: SalesforceSource) -> str:
    from spm_sync.connectors.salesforce.client import SalesforceClient

    calls = ApiCalls(source=source.name)
    client = SalesforceClient(source, calls)
    limits = client.request("GET", "limits", object="limits").parsed()
    daily = limits.get("DailyApiRequests") or {}
    if daily.get("Max"):
        calls.report_daily(int(daily["Max"]) - int(daily.get("Remaining", 0)), int(daily["Max"]))
    return f"reached {source.instance_url or source.domain}; {_budget(calls)}"


def _hubspot(source: HubSpotSource) -> str:
    from spm_sync.connectors.hubspot.client import HubSpotClient

    calls = ApiCalls(source=source.name)
    client = HubSpotClient(source, calls)
    client.request("GET", client.path("owners"), params={"limit": 1}, require="results")
    return f"reached {source.base_url}; {_budget(calls)}"


def _files(source: FilesSource) -> str:
    """Read and type-check every configured export, as a sync would (errors name file, line, column)."""
    from spm_sync.connectors.files.settings import EXPORTS
    from spm_sync.connectors.files.source import read_export

    read = []
    for kind in EXPORTS:
        if (path := getattr(source, kind.name)) is not None:
            export = read_export(path, kind, source.currency)
            rejected = f", {len(export.rejections)} rejected" if export.rejections else ""
            read.append(f"{kind.name} ({export.rows.num_rows} rows{rejected})")
    return f"{len(read)} files valid: {', '.join(read)}" if read else "no files configured"


REACH: dict[str, Callable[[Any], str]] = {"salesforce": _salesforce, "hubspot": _hubspot, "files": _files}


def _attempt(name: str, probe: Callable[[], str | list[str]]) -> list[CheckResult]:
    try:
        outcome = probe()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a failed check line
        return [CheckResult(name, False, str(exc) if isinstance(exc, SpmError) else f"{type(exc).__name__}: {exc}")]
    if isinstance(outcome, list):
        return [CheckResult(name, not outcome, "ok" if not outcome else problem) for problem in outcome or [""]]
    return [CheckResult(name, True, outcome)]


def run_checks(config_path: Path) -> list[CheckResult]:
    try:
        cfg = load_config(config_path)
    except SpmError as exc:
        data: Any = None
        with contextlib.suppress(yaml.YAMLError):
            data = yaml.safe_load(config_path.read_text()) if config_path.exists() else None
        problems = config_errors(data, file=str(config_path)) if isinstance(data, dict) else []
        return [CheckResult("config", False, p, usage=True) for p in problems or [str(exc)]]
    results = [CheckResult("config", True, f"{config_path} is valid ({len(cfg.sources)} sources)")]
    mappings = _attempt("mappings", lambda: _mapping_problems(cfg))
    if all(r.ok for r in mappings):
        mappings = _attempt("mappings", lambda: _schema_problems(cfg))
    results += [CheckResult(r.name, r.ok, r.detail, usage=not r.ok) for r in mappings]
    results += _attempt("store", lambda: _store(cfg))
    for source in cfg.sources:
        results += _attempt(f"source {source.name}", partial(REACH[source.type], source))
    if cfg.writeback:
        results += _attempt("write-back fields", lambda: _writeback_problems(cfg))
    return results


def _mapping_problems(cfg: Config) -> list[str]:
    """Every problem of every mapping file in use (a MappingError lists them all, one per line)."""
    from spm_sync.normalize import load_mapping

    problems: list[str] = []
    for source_type, override in sorted({(s.type, s.mapping) for s in cfg.sources}, key=str):
        try:
            load_mapping(source_type, override)
        except SpmError as exc:
            problems.extend(line.strip() for line in str(exc).splitlines()[1:] or [str(exc)] if line.strip())
    return problems


def _schema_problems(cfg: Config) -> list[str]:
    """Against each source's raw schema in the store (once synced): a table or column a mapping names
    that the source does not have, one line each with file, line and key."""
    from spm_sync.normalize import load_mapping
    from spm_sync.normalize.run import NormalizeResult, compile_sources
    from spm_sync.store import open_store

    mappings = {source.name: load_mapping(source.type, source.mapping) for source in cfg.sources}
    with open_store(cfg, wait_s=5) as store:
        _, problems = compile_sources(cfg, store, mappings, NormalizeResult())
    return [str(p) for p in problems]


def _writeback_problems(cfg: Config) -> list[str]:
    from spm_sync.writeback import validate_targets

    return [str(p) for p in validate_targets(cfg)]


def _store(cfg: Config) -> str:
    from spm_sync.store import open_store

    with open_store(cfg, wait_s=5) as store:
        return f"{cfg.store.backend} store at schema version {store.version()}"


def render_checks(results: list[CheckResult], console: Console) -> None:
    for result in results:
        mark = "[green]ok  [/]" if result.ok else "[red]FAIL[/]"
        console.print(f"{mark} {result.name}: {result.detail}", highlight=False)
    failed = sum(not r.ok for r in results)
    console.print(f"checks: {failed} of {len(results)} failing" if failed else f"all {len(results)} checks ok")
