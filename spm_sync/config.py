"""Configuration: a YAML file validated by pydantic, with `${ENV_VAR}` interpolation for secrets.

Unknown keys are rejected so that a typo never silently falls back to a default; every problem is
reported as `file: key.path: what is wrong` (see `ConfigError`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from spm_sync.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")
CONFIG_ENV_VAR = "SPM_SYNC_CONFIG"
STORE_SCHEMAS = ("spm", "spm_state")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(Model):
    """Where normalized data, run history and dlt state live."""

    backend: Literal["duckdb", "postgres"] = "duckdb"
    path: Path = Path("state/spm_sync.duckdb")
    dsn: SecretStr | None = None
    state_dir: Path = Path("state")
    memory_limit: str | None = Field(
        None, pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory cap (e.g. 1GB): large merges spill to disk instead of growing RSS",
    )
    extract_memory_limit: str = Field(
        "auto", pattern=r"^(auto|off|\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|%))$",
        description="DuckDB memory cap while sync loads (merges) raw tables: auto = 1GiB or 25% of the "
        "machine's memory, whichever is smaller; a size (2GB), a share of memory (10%), or off",
    )

    @field_validator("path")
    @classmethod
    def _not_named_after_a_schema(cls, path: Path) -> Path:
        stem = path.stem.lower()
        if stem in STORE_SCHEMAS or stem.startswith("raw_"):
            raise ValueError(
                f"file name {path.name!r} is the name of one of the store's schemas; DuckDB would report "
                "'ambiguous reference to catalog or schema' - use e.g. state/spm_sync.duckdb"
            )
        return path

    @model_validator(mode="after")
    def _dsn_for_postgres(self) -> StoreConfig:
        if self.backend == "postgres" and self.dsn is None:
            raise ValueError("backend postgres needs a dsn (postgresql://user@host:5432/db)")
        return self

    def postgres_dsn(self) -> str:
        """The DSN in clear text, for the driver (validation ensures a postgres store has one)."""
        if self.dsn is None:
            raise ConfigError("backend postgres needs a dsn (postgresql://user@host:5432/db)", key="store.dsn")
        return self.dsn.get_secret_value()


class ReportingConfig(Model):
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    timezone: str = "UTC"
    freshness_hours: float = Field(26.0, gt=0, description="warn in `status` when a source is older")
    stale_days: int = Field(
        30, ge=1, le=3650, description="pipeline_stale_share: an open deal untouched this many days is stale"
    )


class ApiBudget(Model):
    """Stop a run cleanly before the CRM's daily allowance is spent."""

    per_run: int | None = Field(None, ge=1)
    reserve_fraction: float = Field(0.2, ge=0, le=1)


class FieldFilter(Model):
    """Per object: only these fields (allow) or all but these (deny)."""

    allow: dict[str, list[str]] = Field(default_factory=dict)
    deny: dict[str, list[str]] = Field(default_factory=dict)


def _empty_is_none(value: Any) -> Any:
    """`ca_bundle: ${SF_CA_BUNDLE:-}`: an unset optional path is no path (not the config's folder)."""
    return None if isinstance(value, str) and not value.strip() else value


class SourceBase(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    objects: list[str] | None = Field(None, description="restrict to these objects (default: all)")
    extra_objects: list[str] = Field(default_factory=list)
    fields: FieldFilter = Field(default_factory=FieldFilter)
    api_budget: ApiBudget = Field(default_factory=ApiBudget)
    delete_sweep_days: float = Field(7.0, ge=0)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0)
    mapping: Path | None = Field(None, description="own mapping file instead of the shipped mappings/<type>.yaml")


class KpiAccess(Model):
    """`writeback setup`: the permission set that grants field-level security on the KPI fields it creates."""

    permission_set: str = Field("SPM_Sync_KPIs", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
    users: list[str] = Field(default_factory=list, description="usernames that get read access")
    profiles: list[str] = Field(default_factory=list, description="every active user of these profiles gets read")
    editors: list[str] = Field(default_factory=list, description="usernames that also get edit (the integration user)")


class SalesforceSource(SourceBase):
    type: Literal["salesforce"]
    kpi_access: KpiAccess = Field(default_factory=KpiAccess)
    instance_url: AnyHttpUrl | None = None
    api_version: str = Field("62.0", pattern=r"^\d{2,3}\.\d$")
    domain: str = "login"
    session_id: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    consumer_key: str | None = None
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    ca_bundle: Annotated[Path | None, BeforeValidator(_empty_is_none)] = None
    feedback_object: str | None = "NPS_Response__c"
    rep_survey_object: str | None = Field(
        "Rep_Survey__c", description="the sales team's survey object (raw table rep_survey); null: none"
    )
    bulk_threshold: int = Field(10_000, ge=0)
    concurrency: int = Field(4, ge=1, le=16)

    @model_validator(mode="after")
    def _one_auth_method(self) -> SalesforceSource:
        if self.session_id is not None:
            if self.instance_url is None:
                raise ValueError("session_id auth needs instance_url")
        elif (
            self.username
            and self.password is not None
            or self.username
            and self.consumer_key
            and (self.private_key or self.private_key_file)
        ):
            pass
        else:
            raise ValueError(
                "no credentials: give session_id + instance_url, username + password (+ security_token), "
                "or username + consumer_key + private_key (JWT)"
            )
        return self


class HubSpotRateLimit(Model):
    requests_per_10s: int = Field(100, ge=1)
    search_per_second: float = Field(5, gt=0)


class HubSpotSource(SourceBase):
    type: Literal["hubspot"]
    base_url: AnyHttpUrl = AnyHttpUrl("https://api.hubapi.com")
    access_token: SecretStr
    api_version: str = Field("v3", pattern=r"^(v3|\d{4}-\d{2})$")
    rate_limit: HubSpotRateLimit = Field(default_factory=HubSpotRateLimit)
    lookback_minutes: float = Field(5.0, ge=0)
    archive_check_hours: float = Field(
        24.0, ge=0, description="list archived records (and archived owners) this often; 0 = every sync"
    )
    ca_bundle: Annotated[Path | None, BeforeValidator(_empty_is_none)] = None


class FilesSource(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    type: Literal["files"]
    quotas: Path | None = None
    activity_targets: Path | None = None
    teams: Path | None = None
    opportunities: Path | None = None
    accounts: Path | None = None
    rep_feedback: Path | None = Field(
        None, description="survey of the sales team (CSV, Parquet or xlsx): rep_email, submitted_at, score 0-10, "
        "topic, comment"
    )
    columns: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="per export, our column -> the file's header (a form's question), e.g. "
        "{rep_feedback: {score: 'How likely are you to recommend working here?'}}",
    )
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    mapping: Path | None = Field(None, description="own mapping file instead of the shipped mappings/files.yaml")
    allow_empty: list[
        Literal["quotas", "activity_targets", "teams", "opportunities", "accounts", "rep_feedback"]
    ] = Field(
        default_factory=list, description="exports whose header-only file may delete the stored rows"
    )


Source = Annotated[SalesforceSource | HubSpotSource | FilesSource, Field(discriminator="type")]
SourceT = TypeVar("SourceT", SalesforceSource, HubSpotSource, FilesSource)

PERIOD_PATTERN = r"^(current_month|current_quarter|current_year|\d{4}-(0[1-9]|1[0-2])|FY\d{4}-Q[1-4]|FY\d{4})$"


class WritebackTarget(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,60}$")
    source: str
    object: str
    entity: Literal["rep", "team", "company"] = "rep"
    period: str = Field("current_month", pattern=PERIOD_PATTERN)
    fields: dict[str, str] = Field(min_length=1)
    mode: Literal["update", "upsert"] = "update"
    external_id_field: str | None = None
    overwrite: bool = False
    on_rejected_inputs: Literal["skip", "send"] = Field(
        "skip",
        description="a value computed without some input rows that were rejected (spm.kpi_flags): skip it "
        "(reported) or send it anyway",
    )
    record_id_field: str | None = Field(
        None, description="update mode on a non-user object: field holding the entity key"
    )
    bulk_threshold: int = Field(
        10_000, ge=0, description="more records than this in one run go through the CRM's bulk load API "
        "(Salesforce Bulk API 2.0 ingest) instead of its batch API"
    )
    period_field: str | None = Field(None, description="text field that receives the period id (FY2026-Q1)")
    computed_at_field: str | None = Field(None, description="date/time field that receives when the KPIs were computed")
    name_field: str | None = Field(None, description="upsert: field that receives a readable record name")
    lookup_field: str | None = Field(
        None, description="upsert: lookup field that receives the entity's own CRM record (the rep's User)"
    )

    @model_validator(mode="after")
    def _upsert_needs_external_id(self) -> WritebackTarget:
        if self.mode == "upsert" and not self.external_id_field:
            raise ValueError("mode upsert needs external_id_field")
        if self.mode != "upsert" and (self.name_field or self.lookup_field):
            raise ValueError("name_field and lookup_field belong to mode upsert (one record per entity x period)")
        return self

    def record_fields(self) -> dict[str, str]:
        """Role -> CRM field of the fields that describe the record rather than hold a metric."""
        roles = {"name": self.name_field, "lookup": self.lookup_field, "period": self.period_field,
                 "computed_at": self.computed_at_field}
        return {role: name for role, name in roles.items() if name}


class Schedule(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,60}$")
    cron: str
    timezone: str = "UTC"
    job: Literal["sync", "normalize", "kpis", "writeback", "run"]
    source: str | None = None
    target: str | None = None
    jitter_s: int = Field(0, ge=0)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(cron)
        except ValueError as exc:
            raise ValueError(f"not a cron expression ({exc})") from None
        return cron


def _notification_urls(urls: list[str], *, webhooks: bool) -> list[str]:
    """Each URL must be one apprise can send to (slack://, msteams://, mailto://, json://, ...), or with
    `webhooks` a Slack-compatible http(s) webhook; the error names the entry by position, never the URL
    (it carries the token)."""
    import apprise

    for i, url in enumerate(urls):
        if webhooks and url.startswith(("http://", "https://")):
            continue
        if apprise.Apprise.instantiate(url) is None:
            scheme = url.split("://", 1)[0] if "://" in url else ""
            raise ValueError(f"entry {i}: not a notification URL apprise knows (scheme {scheme!r})")
    return urls


class Alerts(Model):
    webhooks: list[AnyHttpUrl] = Field(
        default_factory=list, description="Slack-compatible incoming webhooks (posted {'text': ...})")
    urls: list[str] = Field(default_factory=list, description="apprise URLs: slack://, msteams://, mailto://, ...")
    on_failure: bool = True
    on_stale: bool = True
    timeout_s: float = 10.0

    @field_validator("urls")
    @classmethod
    def _known(cls, urls: list[str]) -> list[str]:
        return _notification_urls(urls, webhooks=False)

    @property
    def targets(self) -> list[str]:
        return [str(u) for u in self.webhooks] + list(self.urls)


class Notifications(Model):
    """Celebrations: a message when a rep or team crosses an attainment threshold, and a weekly digest."""

    urls: list[str] = Field(default_factory=list, description="apprise URLs (or Slack-compatible http(s) webhooks)")
    thresholds: list[float] = Field(default_factory=lambda: [1.0], description="quota attainment, 1.0 = 100 %")
    entities: list[Literal["rep", "team"]] = ["rep", "team"]  # pydantic copies a mutable default per instance
    period: Literal["current_month", "current_quarter", "current_year"] = "current_quarter"
    digest_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = Field(
        "mon", description="the first kpis run on or after this weekday sends the week's top movers; null: none")
    digest_top: int = Field(5, ge=1)
    timeout_s: float = 10.0

    @field_validator("urls")
    @classmethod
    def _known(cls, urls: list[str]) -> list[str]:
        return _notification_urls(urls, webhooks=True)

    @field_validator("thresholds")
    @classmethod
    def _positive(cls, thresholds: list[float]) -> list[float]:
        if any(t <= 0 for t in thresholds):
            raise ValueError("thresholds are attainment ratios above 0 (1.0 = 100 %)")
        return sorted(set(thresholds))


class CustomMetric(Model):
    """A user KPI in the same shape as the built-in definitions (spm_sync/metrics/kpis.yaml)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,60}$")
    type: str


class CreditingConfig(Model):
    """Who a record counts for (docs/DESIGN.md, "Crediting")."""

    owner: Literal["at_close", "current"] = Field(
        "at_close", description="won/lost deals credit the owner at close, or simply the current owner"
    )
    system_of_record: str | None = Field(
        None, description="the source whose copy of a mirrored record counts (default: first salesforce source)"
    )
    split_types: list[str] = Field(
        default_factory=lambda: ["Revenue"], description="split types totalling 100 % that credit revenue"
    )
    overlay_split_types: list[str] = Field(
        default_factory=list, description="split types that credit reps only, never team/company totals"
    )
    teams: dict[str, str] = Field(
        default_factory=dict, description="team name -> canonical team name, on top of unification by name"
    )

    @model_validator(mode="after")
    def _types_disjoint(self) -> CreditingConfig:
        if both := sorted(set(self.split_types) & set(self.overlay_split_types)):
            raise ValueError(f"split type(s) {', '.join(both)} are both revenue and overlay types")
        return self


class Runs(Model):
    retention_days: int = Field(90, ge=1)
    lock_timeout_s: float = Field(0, ge=0, description="wait this long for a busy lock, then exit")
    data_wait_s: float = Field(
        3600, ge=0,
        description="PostgreSQL: normalize/kpis wait this long for running syncs of what they read (and a sync "
        "for a running normalize before it loads), then fail",
    )


class Config(Model):
    store: StoreConfig = Field(default_factory=StoreConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    sources: list[Source] = Field(default_factory=list)
    writeback: list[WritebackTarget] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    alerts: Alerts = Field(default_factory=Alerts)
    notifications: Notifications = Field(default_factory=Notifications)
    metrics: list[CustomMetric] = Field(default_factory=list)
    runs: Runs = Field(default_factory=Runs)
    crediting: CreditingConfig = Field(default_factory=CreditingConfig)
    as_of: date | None = Field(None, description="pin 'today' (tests, reproducible reports)")
    _file: str | None = PrivateAttr(None)  # the file it was read from: problems found later name its lines

    @property
    def file(self) -> str | None:
        return self._file

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        names = [s.name for s in self.sources]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ValueError(f"duplicate source names: {', '.join(sorted(duplicated))}")
        for target in self.writeback:
            if target.source not in names:
                raise ValueError(f"writeback target {target.name!r}: unknown source {target.source!r}")
        for schedule in self.schedules:
            if schedule.source and schedule.source not in names:
                raise ValueError(f"schedule {schedule.name!r}: unknown source {schedule.source!r}")
        sor = self.crediting.system_of_record
        if sor is not None and sor not in names:
            raise ValueError(f"crediting.system_of_record: unknown source {sor!r}")
        return self

    @property
    def system_of_record(self) -> str | None:
        """The source whose rows count when two CRMs hold one record: configured, else the first Salesforce one."""
        if self.crediting.system_of_record is not None:
            return self.crediting.system_of_record
        return next((s.name for s in self.sources if s.type == "salesforce"), None)

    def source(self, name: str) -> SalesforceSource | HubSpotSource | FilesSource:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"unknown source {name!r} (known: {known})")

    def source_of(self, name: str, kind: type[SourceT]) -> SourceT:
        """The source `name`, which must be of type `kind` (e.g. a caller that needs a Salesforce org)."""
        source = self.source(name)
        if not isinstance(source, kind):
            raise ConfigError(f"source {name!r} is a {source.type} source, not a {kind.__name__}")
        return source


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, string) of every string in a parsed YAML document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def missing_env(value: Any, env: dict[str, str]) -> dict[str, str]:
    """Variable -> first key that references it, for every `${VAR}` that is unset and has no default."""
    missing: dict[str, str] = {}
    for path, text in _strings(value):
        for match in _ENV_REF.finditer(text):
            if match.group(1) not in env and match.group(2) is None:
                missing.setdefault(match.group(1), path)
    return missing


def interpolate_env(value: Any, env: dict[str, str]) -> Any:
    """Replace `${VAR}` / `${VAR:-default}` in every string of a parsed YAML document; every unset
    variable is named in one error (a new setup learns them all in one go, not one per run)."""
    missing = missing_env(value, env)
    if len(missing) == 1:
        [(name, key)] = missing.items()
        raise ConfigError(f"environment variable {name} is not set", key=key)
    if missing:
        listed = ", ".join(f"{name} (at {key})" for name, key in missing.items())
        raise ConfigError(f"environment variables not set: {listed}")
    return _substitute(value, env)


def _substitute(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    if not isinstance(value, str):
        return value
    return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)


def _key_path(loc: tuple[int | str, ...], data: Any) -> str:
    """`('sources', 1, 'salesforce', 'instance_url')` -> `sources[1].instance_url` (drops union tags)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if isinstance(node, dict) and part not in node and part in ("salesforce", "hubspot", "files"):
            continue
        out += f".{part}" if out else part
        node = node.get(part) if isinstance(node, dict) else None
    return out


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "url_parsing" or kind == "url_type" or kind.startswith("url_"):
        return "not a URL"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def parse_config(data: Any, *, file: str = "config.yaml", env: dict[str, str] | None = None) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", file=file)
    try:
        data = interpolate_env(data, dict(os.environ) if env is None else env)
    except ConfigError as exc:
        raise ConfigError(exc.message, file=file, key=exc.key) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(_message(first) + extra, file=file, key=_key_path(first["loc"], data) or None) from None


def config_errors(data: Any, *, file: str = "config.yaml") -> list[str]:
    """Every problem in a config document, one line each (for `check`)."""
    try:
        Config.model_validate(interpolate_env(data or {}, dict(os.environ)))
    except ConfigError as exc:
        return [str(ConfigError(exc.message, file=file, key=exc.key))]
    except ValidationError as exc:
        return [f"{file}: {_key_path(e['loc'], data)}: {_message(e)}" for e in exc.errors()]
    return []


def resolve_config_path(path: Path | None) -> Path:
    if path is not None:
        return path
    env = os.environ.get(CONFIG_ENV_VAR)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def anchor_paths(model: BaseModel, folder: Path) -> Any:
    """`model` with every relative path in it (store, state_dir, files, mappings, CA bundles, keys,
    defaults included) made absolute against `folder`, so a run started from anywhere (cron, another
    shell) finds the same store and pipeline state."""

    def anchored(value: Any) -> Any:
        if isinstance(value, Path):
            return value if value.is_absolute() else folder / value
        if isinstance(value, BaseModel):
            return anchor_paths(value, folder)
        if isinstance(value, list):
            return [anchored(v) for v in value]
        return value

    changed = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        new = anchored(value)
        if new != value:
            changed[name] = new
    return model.model_copy(update=changed) if changed else model


def load_config(path: Path) -> Config:
    """Read, interpolate and validate a config file; relative paths resolve against its folder."""
    if not path.exists():
        raise ConfigError("no such file (pass --config or set SPM_SYNC_CONFIG)", file=str(path))
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise ConfigError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=str(path), key=where) from None
    if data is None:
        raise ConfigError("the file is empty; see config.example.yaml for every option", file=str(path))
    cfg: Config = anchor_paths(parse_config(data, file=str(path)), path.resolve().parent)
    cfg._file = str(path)
    return cfg
