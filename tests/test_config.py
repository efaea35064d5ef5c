from __future__ import annotations

from pathlib import Path

import pytest

from spm_sync.config import config_errors, load_config, parse_config
from spm_sync.errors import ConfigError

GOOD = """
store: {backend: duckdb, path: state/spm_sync.duckdb}
reporting: {currency: EUR, fiscal_year_start_month: 2}
sources:
  - name: sf
    type: salesforce
    instance_url: https://example.my.salesforce.com
    session_id: ${SF_SESSION}
  - name: hs
    type: hubspot
    access_token: ${HS_TOKEN:-pat-default}
writeback:
  - name: rep_attainment
    source: sf
    object: User
    fields: {quota_attainment: Quota_Attainment__c}
schedules:
  - {name: nightly, cron: "0 2 * * *", job: run}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_good_config_interpolates_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_SESSION", "00Dxx!secret-session")
    monkeypatch.delenv("HS_TOKEN", raising=False)
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.reporting.currency == "EUR"
    assert cfg.reporting.fiscal_year_start_month == 2
    assert cfg.sources[0].session_id.get_secret_value() == "00Dxx!secret-session"
    assert cfg.sources[1].access_token.get_secret_value() == "pat-default"
    assert cfg.writeback[0].mode == "update"
    assert cfg.writeback[0].period == "current_month"


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SF_SESSION", "00Dxx!secret-session")
    cfg = load_config(write(tmp_path, GOOD))
    assert "secret-session" not in repr(cfg)
    assert "secret-session" not in str(cfg.model_dump())
    assert "pat-default" not in cfg.model_dump_json()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {
                "sources": [
                    {"name": "hs", "type": "hubspot", "access_token": "x"},
                    {"name": "sf", "type": "salesforce", "instance_url": "nope", "session_id": "x"},
                ]
            },
            "config.yaml: sources[1].instance_url: not a URL",
        ),
        ({"stores": {}}, "config.yaml: stores: unknown key"),
        (
            {"sources": [{"name": "hs", "type": "hubspot", "access_token": "x"}],
             "writeback": [{"name": "t", "source": "hs", "object": "users", "period": "2026-13",
                            "fields": {"revenue_won": "r"}}]},
            "config.yaml: writeback[0].period: String should match pattern",
        ),
        ({"store": {"path": "state/spm.duckdb"}}, "config.yaml: store.path: file name 'spm.duckdb' is the name"),
        (
            {"reporting": {"fiscal_year_start_month": 13}},
            "config.yaml: reporting.fiscal_year_start_month: Input should be",
        ),
        ({"sources": [{"name": "hs", "type": "hubspot"}]}, "config.yaml: sources[0].access_token: required"),
        ({"sources": [{"name": "x", "type": "sap"}]}, "config.yaml: sources[0]: Input tag 'sap' found using 'type'"),
        (
            {"schedules": [{"name": "n", "cron": "every day", "job": "run"}]},
            "config.yaml: schedules[0].cron: not a cron",
        ),
        (
            {
                "sources": [
                    {
                        "name": "sf",
                        "type": "salesforce",
                        "session_id": "${NOPE_UNSET_VAR}",
                        "instance_url": "https://a.example",
                    }
                ]
            },
            "config.yaml: sources[0].session_id: environment variable NOPE_UNSET_VAR is not set",
        ),
        (
            {"writeback": [{"name": "t", "source": "ghost", "object": "User", "fields": {"revenue_won": "R__c"}}]},
            "config.yaml: Value error, writeback target 't': unknown source 'ghost'",
        ),
    ],
)
def test_bad_config_is_one_line(document: dict, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_UNSET_VAR", raising=False)
    with pytest.raises(ConfigError) as info:
        parse_config(document)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(message) or message.replace("Value error, ", "") in text


def test_salesforce_needs_credentials() -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\]: no credentials"):
        parse_config({"sources": [{"name": "sf", "type": "salesforce", "instance_url": "https://a.example"}]})


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match=r"config.yaml: line 3: not valid YAML \(expected .,. or .\]."):
        load_config(write(tmp_path, "store:\n  path: [unclosed\n"))


def test_config_errors_lists_every_problem() -> None:
    problems = config_errors({"bogus": 1, "reporting": {"currency": "euro"}})
    assert problems == [
        "config.yaml: reporting.currency: String should match pattern '^[A-Z]{3}$'",
        "config.yaml: bogus: unknown key",
    ]


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    for var in ("SF_SESSION_ID", "SF_INSTANCE_URL", "HUBSPOT_TOKEN", "SF_PASSWORD", "SF_TOKEN", "ALERT_WEBHOOK"):
        monkeypatch.setenv(var, "https://example.test" if var in ("SF_INSTANCE_URL", "ALERT_WEBHOOK") else "x")
    cfg = load_config(example)
    assert {s.type for s in cfg.sources} == {"salesforce", "hubspot", "files"}
