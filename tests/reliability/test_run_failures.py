"""A failing source is one line and does not stop the others; TLS, closed ports and bad tokens fail at once."""

from __future__ import annotations

from pathlib import Path

from spm_sync.config import load_config
from spm_sync.sandbox import Sandbox
from spm_sync.store import open_store
from tests.reliability.harness import closed_port, error_lines, spm, write_config


def test_each_source_fails_alone_in_one_line_without_retries(tmp_path: Path, sandbox: Sandbox, tally) -> None:
    port = closed_port()
    config = write_config(
        tmp_path, sandbox, sf={"instance_url": f"https://127.0.0.1:{port}"}, hs={"access_token": "wrong-token"}
    )
    before = sandbox.hubspot.stats()["total"]
    result = spm(config, "sync")
    tally.add("faults", 2)
    assert result.returncode == 1, result.stderr
    sf_line = f"salesforce 'sf': connection refused by 127.0.0.1:{port} (nothing listening there); check instance_url"
    [sf_error, hs_error] = error_lines(result)
    assert sf_error == f"error: {sf_line}"
    assert hs_error.startswith("error: hubspot 'hs': object=deals: 401 Unauthorized: Authentication credentials")
    assert hs_error.endswith("(check access_token)")
    assert "Traceback" not in result.stderr and "PipelineStepFailed" not in result.stderr
    assert sandbox.hubspot.stats()["total"] - before == 1  # a rejected token is not retried
    with open_store(load_config(config)) as store:
        rows = store.fetchall("SELECT subject, status, error_message FROM spm_state.runs ORDER BY started_at")
    assert rows == [("sf", "failed", sf_line), ("hs", "failed", hs_error.removeprefix("error: "))]


def test_tls_without_the_ca_names_it_and_the_other_source_and_stages_still_run(
    tmp_path: Path, sandbox: Sandbox, tally
) -> None:
    config = write_config(tmp_path, sandbox, sf={"ca_bundle": None}, writeback=[])
    result = spm(config, "run")
    tally.add("faults", 1)
    assert result.returncode == 1
    port = sandbox.salesforce.instance_url.rsplit(":", 1)[1]
    assert error_lines(result) == [
        f"error: salesforce 'sf': TLS certificate of 127.0.0.1:{port} is not trusted (unable to get local issuer "
        "certificate); set ca_bundle to the CA file that signed it"
    ]
    with open_store(load_config(config)) as store:
        runs = store.fetchall("SELECT job, subject, status FROM spm_state.runs ORDER BY started_at")
        deals = store.fetchone("SELECT count(*) FROM raw_hs.deals")[0]
    assert runs == [
        ("sync", "sf", "failed"),
        ("sync", "hs", "succeeded"),
        ("normalize", None, "succeeded"),
        ("kpis", None, "succeeded"),
    ]
    portal = sandbox.hubspot.portal  # the data set runs up to today, so its size is read, not fixed
    assert deals == len(portal.ids("deals")) + len(portal.ids("deals", archived=True)) > 0  # archived ones too


def test_check_names_the_certificate_once(tmp_path: Path, sandbox: Sandbox) -> None:
    config = write_config(tmp_path, sandbox, sf={"ca_bundle": None})
    before = sandbox.salesforce.stats()["total"]
    result = spm(config, "check")
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("FAIL source sf")]
    assert "TLS certificate of 127.0.0.1:" in line and "set ca_bundle" in line
    assert sandbox.salesforce.stats()["total"] == before  # the handshake failed: no request was ever answered
