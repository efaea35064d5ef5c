"""No secret reaches logs, errors, the store, run history or state/, even from runs that fail on purpose."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from spm_sync.config import load_config
from spm_sync.sandbox import Sandbox
from spm_sync.store import open_store
from tests.reliability.harness import closed_port, spm, write_config


def _store_text(config: Path) -> str:
    """Every row of every table of the store as text (file bytes alone can hide compressed strings)."""
    with open_store(load_config(config)) as store:
        tables = store.fetchall(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        )
        return "\n".join(str(store.fetchall(f'SELECT * FROM "{schema}"."{table}"')) for schema, table in tables)


def test_failed_and_successful_runs_leak_no_secret(
    tmp_path: Path, sandbox: Sandbox, tally, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = {name: f"{name}-{secrets.token_hex(8)}" for name in ("SF_PASSWORD", "SF_TOKEN", "HS_BAD", "HOOK")}
    real = {"SF_SESSION": sandbox.salesforce.session_id, "HS_TOKEN": sandbox.hubspot.access_token}
    env = {**planted, **real}
    hook = f"http://127.0.0.1:{closed_port()}/services/{planted['HOOK']}"
    failing = write_config(
        tmp_path / "failing", sandbox,
        sf={"session_id": None, "username": "ops@example.com", "password": "${SF_PASSWORD}",
            "security_token": "${SF_TOKEN}"},
        hs={"access_token": "${HS_BAD}"},
        alerts={"webhooks": [hook]},
    )
    working = write_config(
        tmp_path / "working", sandbox, sf={"session_id": "${SF_SESSION}"}, hs={"access_token": "${HS_TOKEN}"}
    )
    outputs = []
    for config, argv, expected in [
        (failing, ["run"], 1),
        (failing, ["check"], 1),
        (failing, ["writeback"], 1),
        (failing, ["status", "--format", "json"], 0),
        (working, ["run"], 0),
        (working, ["status", "--format", "json"], 0),
    ]:
        result = spm(config, "--log-format", "json", "--log-level", "DEBUG", *argv, **env)
        assert result.returncode == expected, (argv, result.stderr[-2000:])
        outputs += [result.stdout, result.stderr]
    tally.add("faults", 3)  # wrong password, wrong token, unreachable webhook
    assert "login refused" in outputs[1] and "401 Unauthorized" in outputs[1]  # the failures did happen
    for name, value in env.items():  # the store is read here too, through the same config
        monkeypatch.setenv(name, value)
    haystacks = {"cli output": "\n".join(outputs)}
    for config in (failing, working):
        haystacks[f"{config.parent.name} store rows"] = _store_text(config)
        for path in config.parent.rglob("*"):
            if path.is_file():
                haystacks[str(path.relative_to(tmp_path))] = path.read_bytes().decode("utf-8", "replace")
    hits = [(name, where) for name, value in env.items() for where, text in haystacks.items() if value in text]
    assert [h for h in hits if not h[1].endswith("config.yaml")] == []
    assert len(haystacks) > 20  # store files, dlt state, schemas, traces and lock files were all read
