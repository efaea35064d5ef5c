"""A YAML loader that remembers the line of every mapping key, so a problem can name its line."""

from __future__ import annotations

import re
from typing import Any

import yaml


class MarkedDict(dict[Any, Any]):
    """A dict that knows the 1-based line of itself (`line`) and of each of its keys (`lines`)."""

    line: int = 0
    lines: dict[Any, int]


class _MarkedLoader(yaml.SafeLoader):
    """SafeLoader (merge keys and anchors work) whose mappings are MarkedDicts.

    Booleans are YAML 1.2's `true`/`false` only: in YAML 1.1 a join's `on:` key would read as True.
    """


_MarkedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_MarkedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    data.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1
    return data


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_marked(text: str) -> Any:
    """Parse YAML text; raises yaml.YAMLError (with problem_mark) on bad syntax."""
    return yaml.load(text, Loader=_MarkedLoader)  # noqa: S506 - a SafeLoader subclass


def line_of(document: Any, path: tuple[str | int, ...]) -> int | None:
    """The line of the deepest key along `path` that exists in the document."""
    node, line = document, None
    for part in path:
        if isinstance(node, MarkedDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


def key_path(path: tuple[str | int, ...]) -> str:
    """A key path as a reader writes it: `tables.leads[0].fields`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
