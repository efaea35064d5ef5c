from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spm_sync.ops.check import run_checks
from spm_sync.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    with Sandbox(seed=3, scale="small") as sb:
        yield sb


def config_file(tmp_path: Path, sandbox: Sandbox, sf_fields: dict[str, str]) -> Path:
    document = {
        "store": {"path": str(tmp_path / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
        "sources": [
            {
                "name": "sf",
                "type": "salesforce",
                "instance_url": sandbox.salesforce.instance_url,
                "session_id": sandbox.salesforce.session_id,
                "ca_bundle": str(sandbox.salesforce.ca_bundle),
            },
            {
                "name": "hs",
                "type": "hubspot",
                "base_url": sandbox.hubspot.base_url,
                "access_token": sandbox.hubspot.access_token,
            },
        ],
        "writeback": [{"name": "sf_reps", "source": "sf", "object": "User", "fields": sf_fields}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_all_checks_pass_against_the_sandbox(tmp_path: Path, sandbox: Sandbox) -> None:
    results = run_checks(config_file(tmp_path, sandbox, {"quota_attainment": "Quota_Attainment__c"}))
    assert [(r.name, r.ok) for r in results] == [
        ("config", True),
        ("mappings", True),
        ("store", True),
        ("source sf", True),
        ("source hs", True),
        ("write-back fields", True),
    ], results
    by_name = {r.name: r.detail for r in results}
    assert "API budget:" in by_name["source sf"] and "daily calls left" in by_name["source sf"]
    assert "daily calls left" in by_name["source hs"]


def test_check_fails_on_a_missing_writeback_field(tmp_path: Path, sandbox: Sandbox) -> None:
    results = run_checks(config_file(tmp_path, sandbox, {"quota_attainment": "No_Such_Field__c"}))
    failed = [r for r in results if not r.ok]
    assert [r.name for r in failed] == ["write-back fields"]
    assert "No_Such_Field__c" in failed[0].detail


def test_check_reports_every_config_problem(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("bogus: 1\nreporting: {currency: euro}\n")
    results = run_checks(path)
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("config", False, f"{path}: reporting.currency: String should match pattern '^[A-Z]{{3}}$'"),
        ("config", False, f"{path}: bogus: unknown key"),
    ]


def test_unreachable_source_fails(tmp_path: Path, sandbox: Sandbox) -> None:
    path = config_file(tmp_path, sandbox, {"quota_attainment": "Quota_Attainment__c"})
    document = yaml.safe_load(path.read_text())
    document["sources"][1]["access_token"] = "pat-wrong"
    path.write_text(yaml.safe_dump(document))
    failed = [r for r in run_checks(path) if not r.ok]
    assert [r.name for r in failed] == ["source hs"]


def test_files_are_read_and_type_checked(tmp_path: Path) -> None:
    good, bad = tmp_path / "quotas.csv", tmp_path / "targets.csv"
    good.write_text("rep_email,period_start,period_end,amount,currency\na@x.io,2026-01-01,2026-01-31,1000,USD\n")
    bad.write_text("rep_email,period_start,period_end,kind,target\na@x.io,2026-01-01,2026-01-31,call,many\n")
    path = tmp_path / "config.yaml"
    document = {
        "store": {"path": str(tmp_path / "spm_sync.duckdb"), "state_dir": str(tmp_path / "state")},
        "sources": [
            {"name": "erp", "type": "files", "quotas": str(good)},
            {"name": "erp2", "type": "files", "activity_targets": str(bad)},
        ],
    }
    path.write_text(yaml.safe_dump(document))
    by_name = {r.name: r for r in run_checks(path)}
    assert by_name["source erp"].ok and by_name["source erp"].detail == "1 files valid: quotas (1 rows)"
    assert not by_name["source erp2"].ok
    assert by_name["source erp2"].detail.startswith(f"{bad}: line 2: target: not a number 'many'")
