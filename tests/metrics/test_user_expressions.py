"""A KPI expression from config is refused at load, naming the file, line and key (exit 2 from the CLI),
unless it is one scalar expression over the model's columns calling allowed functions only."""

from __future__ import annotations

from pathlib import Path

import pytest

from spm_sync.cli import main

CONFIG = """\
store:
  path: {store}
metrics:
  - name: big_deals
    type: simple
    model: opportunities
    time: close_date
    agg: count
    filter: "{filter}"
"""


@pytest.mark.parametrize(
    ("filter_", "message"),
    [
        ("is_won; DROP TABLE spm.reps", "`;` is not allowed: one expression only, no statements"),
        ("is_won;", "`;` is not allowed: one expression only, no statements"),
        ("DROP TABLE spm.reps", "a statement or query is not allowed here, only an expression over columns"),
        ("is_won AND owner_id IN (SELECT rep_id FROM spm.reps)",
         "a statement or query is not allowed here, only an expression over columns"),
        ("amount_rcc > 100", "unknown column(s) of model opportunities: amount_rcc (known: "),
        ("read_csv('/etc/passwd') IS NOT NULL", "function(s) not allowed in an expression: read_csv"),
        ("sum(amount_rc) > 0", "aggregate and window functions are not allowed here (one value per row)"),
    ],
    ids=["statement-after-semicolon", "trailing-semicolon", "statement", "subquery", "unknown-column",
         "function", "aggregate"],
)
def test_refused_expression_names_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], filter_: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(store=tmp_path / "spm_sync.duckdb", filter=filter_))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "list", "metrics", "--format", "json"])
    assert exited.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {config}: line 9: metrics[0].filter: {message}")


def test_an_allowed_expression_compiles_into_the_listing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    allowed = "is_won AND coalesce(amount_rc, 0) > 1000 AND lower(deal_type) LIKE 'new%'"
    config.write_text(CONFIG.format(store=tmp_path / "spm_sync.duckdb", filter=allowed))
    main(["--config", str(config), "list", "metrics", "--format", "json"])
    assert '"metric": "big_deals"' in capsys.readouterr().out
