"""KPI definitions: YAML data loaded into typed models and validated as a batch.

Why a batch: users add KPIs in config; one run should list every problem (file, key, line), not the
first. Composite types (attainment with an inline target, stage_funnel) are expanded here into the
few primitive types the compiler knows, so the compiler stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlglot import exp

from spm_sync.config import Config, ReportingConfig
from spm_sync.errors import MappingError
from spm_sync.expressions import ExpressionRefused, parse_user_expression
from spm_sync.normalize.yamlmarks import key_path, line_of, load_marked

BUILTIN_FILE = "kpis.yaml"
NAME = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"  # no "__": the compiler's suffixes (__n, __d) live there


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RecordSpec(_Model):
    """How `explain` names a model row: SQL over the model's `from` for each column it prints."""

    object: str
    source: str
    id: str
    name: str | None = None
    amount: str | None = None  # in the reporting currency
    rule: str | None = None  # the crediting rule that put the row there
    # Excluded records: the rows before crediting (same aliases), whether deleted, whose copy it is.
    base: str | None = None
    base_owner: str | None = None
    deleted: str | None = None
    mirror_of: str | None = None


class ModelDef(_Model):
    """The rows some metrics aggregate: a table or join, rows that never count, owner, usable columns."""

    from_: str = Field(alias="from")
    where: str | None = None
    owner: str
    # Credited rows (spm.opportunity_credits) carry their own team (at the credited date), the rep's
    # share of the record, and whether they add to team/company totals; other models leave these out:
    # the owner's team at the metric's time column (spm.credit_membership), share 1, in totals.
    team: str | None = None
    share: str | None = None
    in_totals: str | None = None
    columns: dict[str, str | None]
    record: RecordSpec | None = None
    doc: str | None = None

    def column_sql(self, name: str) -> str:
        return self.columns[name] or name


Unit = Literal["ratio", "currency", "count", "number"]


class _Metric(_Model):
    name: str = Field(pattern=NAME, max_length=60)
    doc: str | None = None
    hidden: bool = False
    unit: Unit | None = None  # what the value means to a reader; None: inferred (see metric_unit)
    # Columns of the model(s) to break the value down by (stored with dimension/dimension_value).
    breakdowns: tuple[str, ...] = ()


class Simple(_Metric):
    type: Literal["simple"]
    model: str
    time: str
    agg: Literal["sum", "count", "count_distinct", "mean"] = "sum"
    expr: str | None = None
    filter: str | None = None
    trailing_days: int | None = Field(None, ge=1, le=3660)
    # As of each period end E: a row counts while `time` < E <= `until` (a NULL `until`: from then on).
    until: str | None = None

    @property
    def as_of_end(self) -> bool:
        """Counted at the period's end (a window or a span), not over the rows dated in the period."""
        return bool(self.trailing_days or self.until)


class Ratio(_Metric):
    type: Literal["ratio"]
    numerator: str
    denominator: str
    positive_denominator: bool = False


class Derived(_Metric):
    type: Literal["derived"]
    expr: str


class TargetSpec(_Model):
    model: str
    expr: str
    filter: str | None = None


class Target(_Metric):
    type: Literal["target"]
    model: str
    expr: str
    filter: str | None = None


class Attainment(_Metric):
    type: Literal["attainment"]
    actual: str
    target: str | TargetSpec


class Survey(_Metric):
    type: Literal["survey"]
    model: str
    time: str
    score: str = "score"
    filter: str | None = None
    positive: tuple[float, float]
    negative: tuple[float, float] | None = None
    scale: float = 100.0


class StageFunnel(_Metric):
    type: Literal["stage_funnel"]
    stages: list[str] = Field(min_length=2)
    exits: list[str] = Field(default_factory=list)  # categories that end a stage without being in the funnel
    model: str = "opportunity_stages"  # a column first_<category> (first entry timestamp) per category


class Rank(_Metric):
    type: Literal["rank"]
    of: str
    within: Literal["team"] = "team"
    order: Literal["desc", "asc"] = "desc"


MetricDef = Annotated[
    Simple | Ratio | Derived | Target | Attainment | Survey | StageFunnel | Rank, Field(discriminator="type")
]
_METRIC = TypeAdapter(MetricDef)
_MODELS = TypeAdapter(dict[str, ModelDef])
Primitive = Simple | Ratio | Derived | Target | Rank


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a definition file, located by file, key path and (when known) line."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return ": ".join(p for p in (self.file, f"line {self.line}" if self.line else "", self.key, self.message) if p)


class KpiDefinitionError(MappingError):
    """Every problem of the KPI definitions at once; file/key are those of the first."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, file=first.file, key=first.key)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class Source:
    """Where a metric definition came from, to locate problems."""

    file: str
    document: Any = None
    prefix: tuple[str | int, ...] = ()

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        full = self.prefix + path
        line = line_of(self.document, full) if self.document is not None else None
        return Problem(self.file, key_path(full), message, line)


@dataclass
class Catalog:
    """Models and primitive metrics in dependency order (a metric comes after the metrics it uses)."""

    models: dict[str, ModelDef]
    metrics: list[Primitive]
    origin: dict[int, tuple[Source, tuple[str | int, ...]]] = field(default_factory=dict)  # by id(metric)

    @property
    def visible(self) -> list[Primitive]:
        return [m for m in self.metrics if not m.hidden]

    @property
    def dimensions(self) -> list[str]:
        """Every dimension some metric is broken down by, in first-use order."""
        return list(dict.fromkeys(d for m in self.metrics for d in m.breakdowns))

    def uses(self, metric: Primitive) -> set[str]:
        """Every metric `metric` depends on, directly or not."""
        by_name = {m.name: m for m in self.metrics}
        found: set[str] = set()
        pending = sorted(dependencies(metric))
        while pending:
            name = pending.pop()
            if name not in found and name in by_name:
                found.add(name)
                pending += sorted(dependencies(by_name[name]))
        return found

    def broken_down(self, dimension: str) -> list[Primitive]:
        """The metrics broken down by `dimension` and every metric they use, in dependency order."""
        needed: set[str] = set()
        for metric in self.metrics:
            if dimension in metric.breakdowns:
                needed |= {metric.name} | self.uses(metric)
        return [m for m in self.metrics if m.name in needed]


# --- SQL expressions ----------------------------------------------------------------------------


@cache
def parse_expression(text: str) -> exp.Expr:
    """One scalar SQL expression (spm_sync/expressions.py); the tree is shared: copy before changing it."""
    return parse_user_expression(text)


def referenced_names(text: str) -> set[str]:
    return {c.name for c in parse_expression(text).find_all(exp.Column)}


def _expression_problem(text: str, known: set[str], what: str) -> str | None:
    """Why an expression is unusable (bad SQL, unknown names, aggregates), or None."""
    try:
        parsed = parse_expression(text)
    except ExpressionRefused as exc:
        return str(exc)
    unknown = sorted({c.name for c in parsed.find_all(exp.Column)} - known)
    if unknown:
        return f"unknown {what} {', '.join(unknown)} (known: {', '.join(sorted(known))})"
    return None


# --- loading ------------------------------------------------------------------------------------


def _pydantic_problems(source: Source, path: tuple[str | int, ...], error: ValidationError) -> list[Problem]:
    out = []
    errors = error.errors()
    for item in errors:
        if "str" in item["loc"] and item["type"] == "string_type" and len(errors) > 1:
            continue  # `x: str | Spec` given a Spec with its own problems: those say more
        loc = list(item["loc"])
        if loc and loc[0] in _TYPE_TAGS:  # the discriminated union's branch, not a key
            loc = loc[1:]
        loc = [p for p in loc if not (isinstance(p, str) and (p[:1].isupper() or p == "str"))]  # union members
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
        message = "unknown key" if item["type"] == "extra_forbidden" else str(item["msg"]).removeprefix("Value error, ")
        out.append(source.problem(path + tuple(loc), message))
    return out


_TYPE_TAGS = {"simple", "ratio", "derived", "target", "attainment", "survey", "stage_funnel", "rank"}


def _expand(metric: Any) -> list[Primitive]:
    """Composite definitions -> primitives (hidden helpers are named with `__`, so never clash with users').

    Built with model_construct: the inputs are validated already, and `__` names are ours only.
    """
    if isinstance(metric, Attainment):
        target = metric.target
        parts: list[Primitive] = []
        if isinstance(target, TargetSpec):
            name = f"{metric.name}__target"
            parts.append(Target.model_construct(name=name, type="target", hidden=True, **target.model_dump()))
            target = name
        ratio = Ratio.model_construct(
            name=metric.name,
            doc=metric.doc,
            hidden=metric.hidden,
            unit=metric.unit,
            breakdowns=metric.breakdowns,
            type="ratio",
            numerator=metric.actual,
            denominator=target,
        )
        return [*parts, ratio]
    if isinstance(metric, Survey):
        expr = (
            f"CASE WHEN {metric.score} BETWEEN {metric.positive[0]:g} AND {metric.positive[1]:g} THEN {metric.scale:g}"
        )
        if metric.negative is not None:
            expr += (
                f" WHEN {metric.score} BETWEEN {metric.negative[0]:g} AND {metric.negative[1]:g} THEN {-metric.scale:g}"
            )
        expr += f" WHEN {metric.score} IS NOT NULL THEN 0 END"
        return [
            Simple.model_construct(
                name=metric.name,
                doc=metric.doc,
                hidden=metric.hidden,
                unit=metric.unit,
                breakdowns=metric.breakdowns,
                type="simple",
                model=metric.model,
                time=metric.time,
                agg="mean",
                expr=expr,
                filter=metric.filter,
            )
        ]
    if isinstance(metric, StageFunnel):
        return _expand_funnel(metric)
    return [metric]


def _expand_funnel(funnel: StageFunnel) -> list[Primitive]:
    """Per stage s but the last: entered / moved-on counts (hidden), their ratio, and mean days in s."""
    out: list[Primitive] = []
    for index, stage in enumerate(funnel.stages[:-1]):
        first = f"first_{stage}"
        later = ", ".join(f"first_{s}" for s in funnel.stages[index + 1 :])
        moved_on = f"greatest({later}) > {first}" if index + 2 < len(funnel.stages) else f"{later} > {first}"
        entered, moved = f"{funnel.name}_entered__{stage}", f"{funnel.name}_moved_on__{stage}"
        others = [s for s in funnel.stages + funnel.exits if s != stage]
        left = ", ".join(f"CASE WHEN first_{s} > {first} THEN first_{s} END" for s in others)
        days = f"(epoch(least({left})) - epoch({first})) / 86400.0"
        common: dict[str, Any] = {"type": "simple", "model": funnel.model, "time": first, "hidden": True}
        out += [
            Simple.model_construct(name=entered, agg="count", **common),
            Simple.model_construct(name=moved, agg="count", filter=moved_on, **common),
            Ratio.model_construct(
                name=f"{funnel.name}_conversion_{stage}", type="ratio", numerator=moved, denominator=entered
            ),
            Simple.model_construct(
                name=f"{funnel.name}_days_{stage}", type="simple", model=funnel.model, time=first, agg="mean", expr=days
            ),
        ]
    return out


def parameters(cfg: Config | None) -> dict[str, int | date]:
    """The values model columns name as `:<name>`: thresholds a user tunes without editing the definitions
    (config `reporting`), and `today` (config `as_of` when pinned), since a stock read at a period end
    after today can only be what it is today."""
    reporting = cfg.reporting if cfg is not None else ReportingConfig()
    today = cfg.as_of if cfg is not None and cfg.as_of else datetime.now(UTC).date()
    return {"stale_days": reporting.stale_days, "today": today}


def _literal(value: int | date) -> exp.Expr:
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    return exp.Literal.number(value)


@cache
def _placeholders(text: str) -> exp.Expr | None:
    """The parsed column when it names a parameter (built-in model SQL, window functions allowed), else None."""
    if ":" not in text:
        return None
    tree = sqlglot.parse_one(text, read="duckdb")
    return tree if tree.find(exp.Placeholder) is not None else None


def _bind(
    name: str, model: ModelDef, values: dict[str, int | date], source: Source, problems: list[Problem]
) -> ModelDef:
    """The model with every `:<parameter>` of its columns replaced by the parameter's value."""
    columns = dict(model.columns)
    for column, text in model.columns.items():
        tree = _placeholders(text) if text else None
        if tree is None:
            continue
        unknown = sorted({p.name for p in tree.find_all(exp.Placeholder)} - set(values))
        if unknown:
            known = ", ".join(sorted(values))
            problems.append(source.problem(("models", name, "columns", column),
                                           f"unknown parameter :{', :'.join(unknown)} (known: {known})"))
            continue
        bound = tree.copy().transform(
            lambda node: _literal(values[node.name]) if isinstance(node, exp.Placeholder) else node
        )
        columns[column] = bound.sql(dialect="duckdb")
    return model.model_copy(update={"columns": columns})


def _builtin_text() -> str:
    return resources.files("spm_sync.metrics").joinpath(BUILTIN_FILE).read_text()


def _parse_metrics(
    items: Any, source: Source, problems: list[Problem], origin: dict[int, tuple[Source, tuple[str | int, ...]]]
) -> list[Primitive]:
    if not isinstance(items, list):
        problems.append(source.problem((), "must be a list of metric definitions"))
        return []
    out: list[Primitive] = []
    for index, item in enumerate(items):
        try:
            metric = _METRIC.validate_python(item)
        except ValidationError as exc:
            problems += _pydantic_problems(source, (index,), exc)
            continue
        for primitive in _expand(metric):
            inline_target = isinstance(metric, Attainment) and isinstance(primitive, Target)
            origin[id(primitive)] = (source, (index, "target") if inline_target else (index,))
            out.append(primitive)
    return out


def load_catalog(cfg: Config | None = None, *, builtin_text: str | None = None) -> Catalog:
    """The built-in definitions plus `metrics:` from config, validated together."""
    problems: list[Problem] = []
    origin: dict[int, tuple[Source, tuple[str | int, ...]]] = {}
    text = _builtin_text() if builtin_text is None else builtin_text
    document = load_marked(text) or {}
    builtin = Source(BUILTIN_FILE, document)
    models: dict[str, ModelDef] = {}
    try:
        models = _MODELS.validate_python(document.get("models", {}))
    except ValidationError as exc:
        problems += _pydantic_problems(builtin, ("models",), exc)
    values = parameters(cfg)
    models = {name: _bind(name, model, values, builtin, problems) for name, model in models.items()}
    metrics = _parse_metrics(
        document.get("metrics", []), Source(BUILTIN_FILE, document, ("metrics",)), problems, origin
    )
    if cfg is not None and cfg.metrics:
        custom = [m.model_dump(exclude_none=True) for m in cfg.metrics]
        document = load_marked(Path(cfg.file).read_text()) if cfg.file else None
        config = Source(cfg.file or "config", document, ("metrics",))
        metrics += _parse_metrics(custom, config, problems, origin)
    catalog = Catalog(models, metrics, origin)
    problems += check_catalog(catalog)
    if problems:
        raise KpiDefinitionError(problems)
    catalog.metrics = _dependency_order(catalog.metrics)
    return catalog


def metric_unit(metric: Primitive) -> Unit:
    """The declared unit, else: a ratio is a ratio, a count or rank a count, anything else a number.

    Why: write-back setup picks the CRM field type from it (ratio -> percent, currency -> currency).
    """
    if metric.unit is not None:
        return metric.unit
    if isinstance(metric, Ratio):
        return "ratio"
    if isinstance(metric, Rank) or (isinstance(metric, Simple) and metric.agg in ("count", "count_distinct")):
        return "count"
    return "number"


# --- semantic checks ----------------------------------------------------------------------------


def metric_references(metric: Primitive) -> dict[str, str]:
    """Field -> expression over other metrics, for the metric types built from metrics."""
    if isinstance(metric, Ratio):
        return {"numerator": metric.numerator, "denominator": metric.denominator}
    if isinstance(metric, Derived):
        return {"expr": metric.expr}
    if isinstance(metric, Rank):
        return {"of": metric.of}
    return {}


def _model_problems(metric: Simple | Target, models: dict[str, ModelDef]) -> list[tuple[str, str]]:
    model = models.get(metric.model)
    if model is None:
        return [("model", f"unknown model {metric.model!r} (known: {', '.join(sorted(models))})")]
    columns = set(model.columns)
    out: list[tuple[str, str]] = []
    if isinstance(metric, Simple):
        if metric.time not in columns:
            out.append(("time", f"unknown column {metric.time!r} of model {metric.model}"))
        if metric.until is not None and metric.until not in columns:
            out.append(("until", f"unknown column {metric.until!r} of model {metric.model}"))
        if metric.until is not None and (metric.trailing_days or metric.agg == "count_distinct"):
            out.append(("until", "cannot be combined with trailing_days or count_distinct"))
        if metric.expr is None and metric.agg != "count":
            out.append(("expr", f"required for agg {metric.agg}"))
    else:
        missing = {"period_start", "period_end"} - columns
        if missing:
            out.append(
                ("model", f"a target model needs columns period_start and period_end ({metric.model} lacks them)")
            )
    for key in ("expr", "filter"):
        text = getattr(metric, key)
        if text is not None:
            problem = _expression_problem(text, columns, f"column(s) of model {metric.model}:")
            if problem:
                out.append((key, problem))
    return out


def check_catalog(catalog: Catalog) -> list[Problem]:
    """Duplicate names, unknown models/columns/metrics, bad SQL, wrong reference types, cycles."""
    problems: list[Problem] = []
    names = [m.name for m in catalog.metrics]
    by_name = {m.name: m for m in catalog.metrics}

    def report(metric: Primitive, key: str, message: str) -> None:
        source, path = catalog.origin.get(id(metric), (Source(BUILTIN_FILE), ()))
        problems.append(source.problem(path + ((key,) if key else ()), message))

    seen: set[str] = set()
    for metric in catalog.metrics:
        if metric.name in seen:
            report(metric, "name", f"metric {metric.name!r} is defined twice")
        seen.add(metric.name)
        if isinstance(metric, Simple | Target):
            for key, message in _model_problems(metric, catalog.models):
                report(metric, key, message)
        for key, text in metric_references(metric).items():
            problem = _expression_problem(text, set(names) - {metric.name}, "metric(s)")
            if problem:
                report(metric, key, problem)
        if isinstance(metric, Rank) and isinstance(by_name.get(metric.of), Rank):
            report(metric, "of", "cannot rank on a rank")
    if not problems:
        cycle = _find_cycle(catalog.metrics)
        if cycle:
            report(by_name[cycle[0]], "", f"metrics depend on each other in a cycle: {' -> '.join(cycle)}")
    if not problems:
        for metric in catalog.metrics:
            for dimension in metric.breakdowns:
                problem = _breakdown_problem(catalog, metric, dimension)
                if problem:
                    report(metric, "breakdowns", problem)
    return problems


def _breakdown_problem(catalog: Catalog, metric: Primitive, dimension: str) -> str | None:
    """Why `metric` cannot be broken down by `dimension`: only sums, counts and means of rows in the
    period (and ratios/derived metrics of them) split into slices, and every model must have the column."""
    by_name = {m.name: m for m in catalog.metrics}
    for part in [metric, *(by_name[n] for n in sorted(catalog.uses(metric)))]:
        if not isinstance(part, Simple | Ratio | Derived):
            return f"cannot break down by {dimension!r}: it uses {part.name}, a {part.type} metric"
        if isinstance(part, Simple):
            if part.as_of_end or part.agg == "count_distinct":
                return f"cannot break down by {dimension!r}: {part.name} is counted at period ends or distinct"
            if dimension not in catalog.models[part.model].columns:
                return f"cannot break down by {dimension!r}: model {part.model} has no column {dimension!r}"
    return None


def dependencies(metric: Primitive) -> set[str]:
    return set().union(*(referenced_names(t) for t in metric_references(metric).values()))


def _find_cycle(metrics: list[Primitive]) -> list[str] | None:
    deps = {m.name: dependencies(m) for m in metrics}
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> list[str] | None:
        if state.get(name) == 1:
            return path[path.index(name) :] + [name]
        if state.get(name) == 2 or name not in deps:
            return None
        state[name] = 1
        for dep in sorted(deps[name]):
            found = visit(dep, path + [name])
            if found:
                return found
        state[name] = 2
        return None

    for name in deps:
        found = visit(name, [])
        if found:
            return found
    return None


def _dependency_order(metrics: list[Primitive]) -> list[Primitive]:
    """Stable topological order: definition order, each metric after what it uses."""
    by_name = {m.name: m for m in metrics}
    done: dict[str, Primitive] = {}

    def place(metric: Primitive) -> None:
        if metric.name in done:
            return
        for dep in sorted(dependencies(metric)):
            place(by_name[dep])
        done[metric.name] = metric

    for metric in metrics:
        place(metric)
    return list(done.values())
