"""Load and validate mapping files as a whole: every problem with its file, key path and line.

Why all at once: users edit these files; fixing one error per run is a slow way to learn a format.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlglot import exp

from spm_sync.errors import MappingError
from spm_sync.expressions import ExpressionRefused, parse_user_expression
from spm_sync.normalize.helpers import unknown_helper_arity
from spm_sync.normalize.model import Mapping, Part, ValueMap
from spm_sync.normalize.targets import STAGE_CATEGORIES, TARGETS
from spm_sync.normalize.yamlmarks import key_path, line_of, load_marked

PLACEHOLDERS = {"{from}": "__spm_from__", "{stage}": "__spm_stage__"}  # template -> marker in the tree


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.file}: {where}{self.key}: {self.message}" if self.key else f"{self.file}: {where}{self.message}"


def _document_path(loc: tuple[Any, ...], document: Any) -> tuple[str | int, ...]:
    """A model location as the document spells it: union-branch tags (`ValueMap`, `str`) dropped,
    `from_` read as `from`, and the index of a single part (not written as a list) left out."""
    out: list[str | int] = []
    node = document
    for part in loc:
        if isinstance(part, int):
            if isinstance(node, list) and part < len(node):
                out.append(part)
                node = node[part]
            continue
        key = "from" if part == "from_" else part
        if isinstance(node, dict) and key in node:
            out.append(key)
            node = node[key]
        elif not isinstance(node, dict) or part not in ("ValueMap", "str"):
            out.append(key)
            node = None
    return tuple(out)


@cache
def parse_sql(text: str) -> exp.Expr:
    """A mapping expression's tree, placeholders kept as markers for `fill` (shared: copy to change it)."""
    for placeholder, marker in PLACEHOLDERS.items():
        text = text.replace(placeholder, marker)
    return parse_user_expression(text, windows=True)


def fill(expression: exp.Expr, values: dict[str, str]) -> exp.Expr:
    """A copy of `expression` with each placeholder (`{from}`, `{stage}`) replaced inside identifiers
    and string literals by its value: the value never becomes SQL text of its own."""
    markers = {PLACEHOLDERS[name]: value for name, value in values.items()}

    def substitute(node: exp.Expr) -> exp.Expr:
        textual = isinstance(node, exp.Identifier) or (isinstance(node, exp.Literal) and node.is_string)
        if textual and "__spm_" in node.this:
            text = node.this
            for marker, value in markers.items():
                text = text.replace(marker, value)
            node = node.copy()
            node.set("this", text)
        return node

    return expression.copy().transform(substitute)


def _check_sql(text: str) -> str | None:
    try:
        parsed = parse_sql(text)
    except ExpressionRefused as exc:
        return str(exc)
    problems = unknown_helper_arity(parsed)
    return problems[0] if problems else None


def _literal_text(sql: str) -> str | None:
    try:
        parsed = parse_sql(sql)
    except ExpressionRefused:
        return None
    return parsed.this if isinstance(parsed, exp.Literal) and parsed.is_string else None


Located = list[tuple[tuple[str | int, ...], str]]


def _stage_problems(mapping: Mapping) -> Located:
    out: Located = []
    categories = set(STAGE_CATEGORIES) | set(mapping.categories)
    for stage, category in mapping.stages.items():
        if category not in categories:
            known = ", ".join(sorted(categories))
            message = f"unknown stage category {category!r} (known: {known}; add it to categories)"
            out.append((("stages", stage), message))
    return out


def _pydantic_problems(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> Located:
    out: Located = []
    for error in exc.errors():
        message = "unknown key" if error["type"] == "extra_forbidden" else str(error["msg"])
        out.append((prefix + tuple(error["loc"]), message.removeprefix("Value error, ")))
    return out


def _salvage(raw_part: Any, exc: ValidationError) -> Part | None:
    """The part without its invalid keys, so its other fields still get checked (never used to build)."""
    if not isinstance(raw_part, dict):
        return None
    bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
    try:
        return Part.model_validate({k: v for k, v in raw_part.items() if k not in bad or k in ("from", "fields")})
    except ValidationError:
        return None


def _validate(document: dict[Any, Any]) -> tuple[Mapping | None, Located]:
    """Validate the header and every part on its own, so one bad part hides no other problem."""
    problems: Located = []
    header: Mapping | None = None
    try:
        header = Mapping.model_validate({**document, "tables": {}})
    except ValidationError as exc:
        problems += _pydantic_problems(exc)
    tables = document.get("tables")
    if not isinstance(tables, dict):
        return None, problems + [(("tables",), "required: a mapping of table -> part(s)")]
    parsed: dict[str, list[Part]] = {}
    for target_name, value in tables.items():
        if target_name not in TARGETS:
            problems.append((("tables", target_name), f"unknown table (known: {', '.join(TARGETS)})"))
            continue
        parsed[target_name] = []
        for index, raw_part in enumerate(value if isinstance(value, list) else [value]):
            base: tuple[str | int, ...] = ("tables", target_name, index)
            part: Part | None
            try:
                part = Part.model_validate(raw_part)
                parsed[target_name].append(part)
            except ValidationError as exc:
                problems += _pydantic_problems(exc, base)
                part = _salvage(raw_part, exc)
                if part is None:
                    continue
            problems += [(base + sub, message) for sub, message in _part_problems(part, target_name)]
            if part.each_stage and header is not None and not header.stages:
                problems.append((base + ("each_stage",), "each_stage needs a stages: section"))
    if header is None:
        return None, problems
    problems += _stage_problems(header)
    return header.model_copy(update={"tables": parsed}), problems


def _part_problems(part: Part, target_name: str) -> list[tuple[tuple[str | int, ...], str]]:
    target = TARGETS[target_name]
    out: list[tuple[tuple[str | int, ...], str]] = []
    for column in target.required:
        if column not in part.fields:
            out.append((("fields",), f"missing required field {column!r}"))
    for column, value in part.fields.items():
        if column not in target.columns:
            out.append((("fields", column), f"unknown field for {target_name} (known: {', '.join(target.columns)})"))
            continue
        expr = value.expr if isinstance(value, ValueMap) else value
        sub = ("fields", column, "expr") if isinstance(value, ValueMap) else ("fields", column)
        problem = _check_sql(expr)
        if problem:
            out.append((sub, problem))
        allowed = (target.enums or {}).get(column)
        if allowed:
            out += _enum_problems(value, allowed, ("fields", column))
    if part.where is not None and (problem := _check_sql(part.where)):
        out.append((("where",), problem))
    for index, join in enumerate(part.joins):
        if problem := _check_sql(join.on):
            out.append((("joins", index, "on"), problem))
    return out


def _enum_problems(
    value: str | ValueMap, allowed: tuple[str, ...], path: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    out: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(value, ValueMap):
        for crm_value, ours in value.map.items():
            if ours is not None and ours not in allowed:
                out.append((path + ("map", crm_value), f"{ours!r} is not one of {', '.join(allowed)}"))
        if value.default is not None and value.default not in allowed:
            out.append((path + ("default",), f"{value.default!r} is not one of {', '.join(allowed)}"))
    else:
        literal = _literal_text(value)
        if literal is not None and literal not in allowed:
            out.append((path, f"{literal!r} is not one of {', '.join(allowed)}"))
    return out


def parse_mapping(text: str, *, file: str) -> Mapping:
    """Parse and validate one mapping document; raises MappingError listing every problem."""
    try:
        document = load_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else None
        raise MappingError(f"not valid YAML ({getattr(exc, 'problem', exc)})", file=file, key=line) from None
    if not isinstance(document, dict):
        raise MappingError("the top level must be a mapping", file=file)
    mapping, located = _validate(document)
    problems = []
    for model_path, message in located:
        path = _document_path(model_path, document)
        problems.append(Problem(file, key_path(path), line_of(document, path), message))
    problems.sort(key=lambda p: p.line or 0)
    if problems or mapping is None:
        raise mapping_error(file, problems or [Problem(file, "", None, "not a mapping file")])

    def locate(model_path: tuple[str | int, ...]) -> tuple[str, int | None]:
        path = _document_path(model_path, document)
        return key_path(path), line_of(document, path)

    mapping._file = file
    mapping._locate = locate
    return mapping


def mapping_error(file: str, problems: list[Problem]) -> MappingError:
    """One error carrying every problem (`.problems`), printed one per line."""
    if len(problems) == 1:
        only = problems[0]
        key = ": ".join(p for p in (f"line {only.line}" if only.line else "", only.key) if p)
        error = MappingError(only.message, file=file, key=key or None)
    else:
        lines = "\n".join(f"  {p}" for p in problems)
        error = MappingError(f"{len(problems)} problems:\n{lines}", file=file)
    error.problems = problems  # type: ignore[attr-defined]
    return error


def load_mapping(source_type: str, override: Path | None = None) -> Mapping:
    """The mapping for a source type: a user file when given, else the one shipped in `mappings/`."""
    if override is not None:
        if not override.exists():
            raise MappingError("no such mapping file", file=str(override))
        return parse_mapping(override.read_text(), file=str(override))
    name = f"{source_type}.yaml"
    try:
        text = resources.files("spm_sync.mappings").joinpath(name).read_text()
    except FileNotFoundError:
        raise MappingError(f"no mapping shipped for source type {source_type!r}", file=f"mappings/{name}") from None
    return parse_mapping(text, file=f"mappings/{name}")
