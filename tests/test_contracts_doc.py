"""docs/CONTRACTS.md names only modules that exist: the package layout block, every path in backticks
and every dotted `spm_sync.` name. Why: the page is the map parallel work relies on; a renamed or
removed module must take its line with it."""

from __future__ import annotations

import importlib
import re
from itertools import takewhile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "CONTRACTS.md").read_text()
ROOTS = ("spm_sync", "connectors", "mappings", "tests", "benchmarks", "docs")
PLACEHOLDER = re.compile(r"[<>*{}]")
FILE_NAME = re.compile(r"^([\w.]+\.(py|yaml|sql)|\.\.\.)$")


def layout_paths(doc: str) -> list[str]:
    """Paths of the layout block: a line's first word (under its root folder when indented), and the
    file names that directly follow a folder (`salesforce/  source.py client.py ...`), up to the
    first word that is not one (the description)."""
    block = doc.split("## Package layout", 1)[1].split("```", 2)[1]
    paths: list[str] = []
    root = ""
    for line in block.splitlines():
        words = line.split()
        if not words:
            continue
        first = words[0]
        if not line.startswith(" "):
            root, path = first.rstrip("/"), first
        else:
            path = f"{root}/{first}"
        paths.append(path)
        if first.endswith("/"):
            paths += [f"{path}{word}" for word in takewhile(FILE_NAME.match, words[1:]) if word != "..."]
    return paths


def quoted_paths(doc: str) -> list[str]:
    spans = re.findall(r"`([^`\s]+)`", doc)
    return [s for s in spans if s.split("/", 1)[0] in ROOTS and "/" in s and not PLACEHOLDER.search(s)]


def dotted_names(doc: str) -> list[str]:
    spans = re.findall(r"`(spm_sync\.[\w.]+)`", doc)
    return [s for s in spans if not s.endswith(".")]


def resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest importable module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def test_layout_block_parses_into_the_tree() -> None:
    paths = layout_paths(DOC)
    assert {"spm_sync/", "spm_sync/jobs.py", "connectors/", "connectors/hubspot/client.py",
            "mappings/files.yaml"} <= set(paths)
    assert "spm_sync/logging.py" not in paths


@pytest.mark.parametrize("path", sorted(set(layout_paths(DOC) + quoted_paths(DOC))))
def test_named_path_exists(path: str) -> None:
    assert (REPO / path).exists(), f"docs/CONTRACTS.md names {path}, which does not exist"


@pytest.mark.parametrize("dotted", sorted(set(dotted_names(DOC))))
def test_named_module_imports(dotted: str) -> None:
    assert resolves(dotted), f"docs/CONTRACTS.md names {dotted}, which does not import"


def test_every_top_level_module_is_on_the_map() -> None:
    listed = set(layout_paths(DOC))
    modules = {f"spm_sync/{p.name}" for p in (REPO / "spm_sync").glob("*.py") if p.name != "__init__.py"}
    packages = {f"spm_sync/{p.name}/" for p in (REPO / "spm_sync").iterdir() if (p / "__init__.py").exists()}
    packages -= {"spm_sync/connectors/", "spm_sync/mappings/"}  # the symlinks, listed as connectors/, mappings/
    assert sorted((modules | packages) - listed) == []
