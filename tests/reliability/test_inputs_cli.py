"""Bad inputs through the command line: exit 2 and one line naming file, line and key; nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import duckdb
import yaml

from tests.reliability.tally import TALLY

HEADER = "rep_email,team,period_start,period_end,amount,currency\n"


def spm(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spm_sync.cli", "--config", str(folder / "config.yaml"), *args],
                          capture_output=True, text=True, cwd=folder, timeout=180,
                          env={**os.environ, "COLUMNS": "400"})  # no wrapping of long lines


def setup(folder: Path, mapping: Path | None = None) -> None:
    source = {"name": "erp", "type": "files", "quotas": "quotas.csv"}
    if mapping is not None:
        source["mapping"] = str(mapping)
    (folder / "config.yaml").write_text(yaml.safe_dump({
        "store": {"path": "state/spm_sync.duckdb", "state_dir": "state"}, "sources": [source],
    }))


def quotas(folder: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(folder / "state" / "spm_sync.duckdb"), read_only=True) as con:
        return con.execute("SELECT owner, amount_rc FROM spm.quotas ORDER BY ALL").fetchall()


def test_cli_refuses_bad_inputs_in_one_line_and_keeps_what_is_stored(tmp_path: Path) -> None:
    (tmp_path / "quotas.csv").write_text(HEADER + ",North,2026-01-01,2026-01-31,1000,usd\n"
                                                  ",South,2026-01-01,2026-01-31,1e400,USD\n")
    setup(tmp_path)
    synced = spm(tmp_path, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "quotas.csv: line 3: amount: not a finite number '1e400' (row rejected)" in synced.stdout
    assert spm(tmp_path, "normalize").returncode == 0
    stored = quotas(tmp_path)
    assert stored == [("erp:North", 1000.0)]

    (tmp_path / "quotas.csv").write_text(HEADER)  # header only
    refused = spm(tmp_path, "sync")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (  # the CLI's one line, after the log lines
        f"error: {tmp_path / 'quotas.csv'}: line 2: no data rows (header only): loading it would delete the stored "
        "quotas; if that is meant, run `spm-sync sync --allow-empty` or add quotas to allow_empty of source erp"
    )

    typo = tmp_path / "files.yaml"
    shipped = resources.files("spm_sync.mappings").joinpath("files.yaml").read_text()
    typo.write_text(shipped.replace("amount: amount\n", "amount: amout\n", 1))
    line = shipped.splitlines().index("      amount: amount") + 1
    setup(tmp_path, typo)
    for command in ("normalize", "check"):
        result = spm(tmp_path, command)
        expected = (f"{typo}: line {line}: tables.quotas.fields.amount: column amout is not in raw table quotas "
                    "of the source's schema; did you mean amount? (if it may be absent, list it in the part's "
                    "optional_columns)")
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        if command == "normalize":
            assert result.stderr.strip().splitlines()[-1] == f"error: {expected}"
        else:
            assert f"FAIL mappings: {expected}" in result.stdout.splitlines(), result.stdout
    assert quotas(tmp_path) == stored  # nothing lost
    TALLY.add("bad_inputs", 4)
