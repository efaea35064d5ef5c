"""Property-based mapping and config inputs: a typo in either is exit 2 with one line naming the file,
line and key, or the input loads; a refused normalize leaves every stored spm row as it was.

Mappings are the shipped `mappings/files.yaml` with one seeded edit (a table or column renamed, an
unknown key, a value made into bad SQL, broken YAML), used through a source's `mapping:` option
against a store a real files sync loaded (so the source's schema is dlt's recorded one). Configs are
a small valid config with one edit (a key dropped, misspelt or given a wrong value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spm_sync.config import Config, load_config, parse_config
from spm_sync.errors import ConfigError
from spm_sync.extract import sync_source
from spm_sync.normalize import normalize
from spm_sync.runs import Run
from spm_sync.store import Store, open_store
from tests.reliability.tally import TALLY

SETTINGS = settings(derandomize=True, deadline=None, database=None, max_examples=40,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SHIPPED = resources.files("spm_sync.mappings").joinpath("files.yaml").read_text()
SPM_TABLES = ("quotas", "activity_targets", "teams", "reps", "rejected_inputs")


def files_config(folder: Path, mapping: Path | None = None) -> Config:
    source: dict[str, Any] = {"name": "erp", "type": "files", "quotas": str(folder / "quotas.csv"),
                              "teams": str(folder / "teams.csv"), "activity_targets": str(folder / "targets.csv")}
    if mapping is not None:
        source["mapping"] = str(mapping)
    return parse_config({"store": {"path": str(folder / "state" / "spm_sync.duckdb"),
                                   "state_dir": str(folder / "state")}, "sources": [source]}, env={})


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Store]]:
    folder = tmp_path_factory.mktemp("mapped")
    (folder / "quotas.csv").write_text("rep_email,team,period_start,period_end,amount,currency\n"
                                       ",North,2026-01-01,2026-03-31,90000,USD\n"
                                       ",South,2026-01-01,2026-03-31,inf,USD\n")
    (folder / "teams.csv").write_text("team,rep_email,parent_team\nNorth,,Sales\nNA,,Sales\n")
    (folder / "targets.csv").write_text(
        "team,period_start,period_end,kind,target\nNorth,2026-01-01,2026-01-31,calls,50\n"
    )
    cfg = files_config(folder)
    with open_store(cfg) as store:
        sync_source(cfg, store, "erp", run=Run(job="sync"))
        normalize(cfg, store, Run(job="normalize"))
        yield folder, store


def spm_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {t: store.fetchall(f"SELECT * FROM spm.{t} ORDER BY ALL") for t in SPM_TABLES}


def test_the_shipped_mapping_loads_every_rule(synced: tuple[Path, Store]) -> None:
    _, store = synced
    assert spm_rows(store)["teams"] == [("erp:NA", "NA", "erp:Sales"), ("erp:North", "North", "erp:Sales"),
                                        ("erp:Sales", "Sales", None)]
    assert spm_rows(store)["quotas"] == [("erp:North", "erp", *spm_rows(store)["quotas"][0][2:4], "revenue", 90000.0)]
    assert store.fetchall("SELECT input, check_name, column_name, value, owner FROM spm.rejected_inputs") == [
        ("quotas", "not_finite", "amount", "inf", "erp:South"),
    ]


# --- mapping edits ---------------------------------------------------------------------------------

FROM_LINES = [m.start() for m in re.finditer(r"from: \w+", SHIPPED)]
FIELD_COLUMNS = [m for m in re.finditer(r"^( +)(\w+): ([a-z_]+)$", SHIPPED, re.M) if m.group(2) != "from"]
IDENTIFIER = st.from_regex(r"[a-z][a-z_]{2,10}", fullmatch=True)


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, str]:
    """(kind of edit, the mapping text with it)."""
    kind = draw(st.sampled_from(["table", "column", "unknown_key", "bad_sql", "yaml"]))
    text = SHIPPED
    if kind == "table":
        at = draw(st.sampled_from(FROM_LINES))
        end = text.index("\n", at)
        text = text[:at] + f"from: {draw(IDENTIFIER)}" + text[end:]
    elif kind == "column":
        match = draw(st.sampled_from(FIELD_COLUMNS))
        text = text[:match.start(3)] + draw(IDENTIFIER) + text[match.end(3):]
    elif kind == "unknown_key":
        match = draw(st.sampled_from(FIELD_COLUMNS))
        text = text[:match.start(2)] + draw(IDENTIFIER) + "_x" + text[match.end(2):]
    elif kind == "bad_sql":
        match = draw(st.sampled_from(FIELD_COLUMNS))
        text = text[:match.start(3)] + draw(st.sampled_from(["CAST(", "a +", "SELECT 1", "x)("])) + text[match.end(3):]
    else:
        lines = text.splitlines()
        index = draw(st.integers(10, len(lines) - 1))
        lines.insert(index, draw(st.sampled_from(["  bad: [unclosed", "\tfields: x", "tables: {", "  - : :"])))
        text = "\n".join(lines) + "\n"
    return kind, text


def assert_names_its_place(message: str, path: Path, text: str) -> None:
    """One line: `<file>: line N: <key>: <why>` (or `<file>: line N: <why>` for YAML), where line N of
    the text holds the key's last part."""
    assert "\n" not in message, message
    match = re.match(rf"{re.escape(str(path))}: line (\d+): (.+)$", message)
    assert match, message
    line = text.splitlines()[int(match.group(1)) - 1]
    key = match.group(2).split(": ")[0]
    if key.startswith("tables."):
        last = re.split(r"[.\[\]]+", key.strip("]"))[-1]
        assert last in line or "<<" in line or "*" in line, (message, line)


@SETTINGS
@given(edit=edited())
def test_a_mapping_edit_is_refused_with_its_place_or_loads(synced: tuple[Path, Store], edit: tuple[str, str]) -> None:
    folder, store = synced
    kind, text = edit
    path = folder / "edited.yaml"
    path.write_text(text)
    before = spm_rows(store)
    TALLY.add("bad_inputs", 1)
    try:
        normalize(files_config(folder, path), store, Run(job="normalize"))
    except ConfigError as exc:
        assert exc.exit_code == 2
        problems = getattr(exc, "problems", None)
        for message in [str(p) for p in problems] if problems else [str(exc)]:
            assert_names_its_place(message, path, text)
        assert spm_rows(store) == before  # nothing stored is lost
        TALLY.add("rows_lost", sum(len(v) for v in before.values()) - sum(len(v) for v in spm_rows(store).values()))
        return
    # Loaded: only an edit that keeps the mapping meaningful may load (a renamed column or table that
    # exists, an unknown key that happens to be a real one); the rebuild is then the same data.
    assert kind in ("table", "column", "unknown_key", "bad_sql"), kind
    after = spm_rows(store)
    if after != before:
        normalize(files_config(folder), store, Run(job="normalize"))  # back to the shipped mapping
        assert spm_rows(store) == before


def test_a_misspelt_table_is_one_line_with_file_line_and_key(synced: tuple[Path, Store]) -> None:
    folder, store = synced
    path = folder / "typo.yaml"
    path.write_text(SHIPPED.replace("from: quotas", "from: quotaz", 1))
    line = SHIPPED.splitlines().index("    from: quotas") + 1
    with pytest.raises(ConfigError) as caught:
        normalize(files_config(folder, path), store, Run(job="normalize"))
    assert str(caught.value) == (
        f"{path}: line {line}: tables.quotas.from: raw table quotaz is not a table source erp has or can sync; "
        "did you mean quotas? (if the source may lack it, mark the part `optional: true`)"
    )


def test_a_missing_column_is_one_line_with_file_line_and_key(synced: tuple[Path, Store]) -> None:
    folder, store = synced
    path = folder / "typo.yaml"
    path.write_text(SHIPPED.replace("name: team\n", "name: team_name\n", 1))
    line = SHIPPED.splitlines().index("        name: team") + 1
    with pytest.raises(ConfigError) as caught:
        normalize(files_config(folder, path), store, Run(job="normalize"))
    assert str(caught.value) == (
        f"{path}: line {line}: tables.teams[0].fields.name: column team_name is not in raw table teams of the "
        "source's schema; did you mean team? (if it may be absent, list it in the part's optional_columns)"
    )


# --- config edits ----------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "store": {"backend": "duckdb", "path": "state/spm_sync.duckdb"},
    "reporting": {"currency": "USD", "fiscal_year_start_month": 1},
    "sources": [{"name": "erp", "type": "files", "quotas": "quotas.csv", "allow_empty": ["teams"]}],
    "writeback": [{"name": "w", "source": "erp", "object": "User", "entity": "rep", "period": "current_month",
                   "fields": {"quota_attainment": "Q__c"}, "on_rejected_inputs": "skip"}],
}
PATHS = [("store", "backend"), ("reporting", "currency"), ("reporting", "fiscal_year_start_month"),
         ("sources", 0, "name"), ("sources", 0, "type"), ("sources", 0, "allow_empty"),
         ("writeback", 0, "entity"), ("writeback", 0, "period"), ("writeback", 0, "on_rejected_inputs"),
         ("writeback", 0, "fields")]
VALUES = st.one_of(st.sampled_from(["", "usd", "XYZ", "sometimes", "FY20260", "13", "-1", "[quotas, nope]"]),
                   st.integers(-5, 20), st.none(), st.lists(st.sampled_from(["quotas", "nope"]), max_size=2))


@st.composite
def config_edit(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    document = yaml.safe_load(yaml.safe_dump(BASE))
    path = draw(st.sampled_from(PATHS))
    node = document
    for part in path[:-1]:
        node = node[part]
    kind = draw(st.sampled_from(["drop", "value", "misspell"]))
    if kind == "drop":
        node.pop(path[-1])
    elif kind == "value":
        node[path[-1]] = draw(VALUES)
    else:
        node[f"{path[-1]}x"] = node.pop(path[-1])
    return ".".join(str(p) for p in path), document


@SETTINGS
@given(edit=config_edit())
def test_a_config_edit_is_refused_with_file_and_key_or_loads(tmp_path_factory: pytest.TempPathFactory,
                                                              edit: tuple[str, dict[str, Any]]) -> None:
    key, document = edit
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    TALLY.add("bad_inputs", 1)
    try:
        load_config(path)
    except ConfigError as exc:
        message = str(exc)
        assert exc.exit_code == 2 and "\n" not in message, message
        assert message.startswith(f"{path}: "), message
        top = key.split(".")[0]
        assert top in message, (key, message)
