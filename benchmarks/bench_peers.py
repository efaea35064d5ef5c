"""Benchmark: spm-sync side by side with Airbyte's source-hubspot and source-salesforce on the sandbox.

Same data (one seed and scale), same objects, start date 1 Jan two years back (everything), 190/10 s
on HubSpot; every tool gets a fresh emulator, whose own counters give the calls. Prints calls, wall
time, peak RSS, 429s and records per object for each tool, and the ratios (Airbyte / spm-sync).

    make bench-peers                                              # medium (~45 min; Airbyte is CPU-bound)
    .venv/bin/python benchmarks/bench_peers.py --scale small     # a few minutes

Airbyte's connectors come from PyPI (`airbyte-source-hubspot`, `airbyte-source-salesforce`), each
into its own virtual environment under `--work-dir` (a temp folder; they pin different CDKs and
cannot share one). Their base and token URLs are hard-coded (`https://api.hubapi.com`,
`https://login.salesforce.com/services/oauth2/token`): this script PATCHES THOSE INSTALLED COPIES,
in the temp folder only, to point at the sandbox (restored from `*.orig` before each run). Salesforce
logs in with the refresh-token grant the emulator supports like the real token endpoint.

Airbyte runs source-only (its records are counted here and thrown away, no destination), which
flatters its time and memory; spm-sync's figures include loading into DuckDB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

# The sandbox's records start 1 Jan of last year: a year earlier loads everything without making
# Airbyte's Salesforce source slice decades into 30-day Bulk jobs (one job per slice and object).
START = f"{date.today().year - 2}-01-01T00:00:00Z"
HUBSPOT_STREAMS = {  # spm-sync raw table -> Airbyte stream(s)
    "deals": ("deals", "deals_archived"), "contacts": ("contacts",), "companies": ("companies",),
    "calls": ("engagements_calls",), "emails": ("engagements_emails",), "meetings": ("engagements_meetings",),
    "tasks": ("engagements_tasks",), "goal_targets": ("goals",), "feedback_submissions": ("feedback_submissions",),
    "owners": ("owners", "owners_archived"),
}
SALESFORCE_OBJECTS = ("User", "UserRole", "Account", "Opportunity", "OpportunityHistory", "OpportunityFieldHistory",
                      "Lead", "Task", "Event", "ForecastingQuota", "CurrencyType", "DatedConversionRate", "Period",
                      "FiscalYearSettings", "OpportunitySplit", "OpportunitySplitType")
PATCHES = {
    "hubspot": ("source_hubspot", ("components.py", "source.py", "streams.py", "manifest.yaml"),
                "https://api.hubapi.com"),
    "salesforce": ("source_salesforce", ("api.py",),
                   "https://{'test' if self.is_sandbox else 'login'}.salesforce.com"),
}


@dataclass
class Outcome:
    """One tool's run against one fresh emulator."""

    calls: int = 0
    throttled: int = 0
    wall_s: float = 0.0
    peak_mb: float = 0.0
    records: dict[str, int] = field(default_factory=dict)
    streams: set[str] = field(default_factory=set)  # what the tool offers (Airbyte's discovered catalog)
    endpoints: dict[str, int] = field(default_factory=dict)  # the emulator's calls by endpoint
    note: str = ""


# -- the sandbox child ------------------------------------------------------------------------------
def serve(seed: int, scale: str, rate_limit: int) -> None:
    """Child: seed both emulators, print their addresses; on each stdin line print calls and 429s."""
    from spm_sync.sandbox import Sandbox

    sandbox = Sandbox(seed=seed, scale=scale, rate_limit=rate_limit)
    throttled = {"hubspot": 0, "salesforce": 0}
    for name, emulator in (("hubspot", sandbox.hubspot), ("salesforce", sandbox.salesforce)):
        def counting(*args: Any, _inner: Any = emulator.server.on_throttle, _name: str = name) -> Any:
            throttled[_name] += 1
            return _inner(*args)
        emulator.server.on_throttle = counting
    with sandbox:
        desc = sandbox.description()
        desc["salesforce"]["refresh_token"] = sandbox.salesforce.org.refresh_token
        print(json.dumps(desc), flush=True)
        for _line in sys.stdin:
            print(json.dumps({"hubspot": {**sandbox.hubspot.stats(), "throttled": throttled["hubspot"]},
                              "salesforce": {**sandbox.salesforce.stats(), "throttled": throttled["salesforce"]}}),
                  flush=True)


class SandboxChild:
    def __init__(self, seed: int, scale: str, rate_limit: int) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(seed), scale, str(rate_limit)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.desc: dict[str, Any] = json.loads(self.proc.stdout.readline())

    def stats(self, crm: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline())[crm])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def measured(cmd: list[str], env: dict[str, str] | None = None, on_line: Any = None,
             cwd: Path | None = None) -> tuple[float, float, int]:
    """Run `cmd`: (wall s, peak RSS MB of it and its children, exit code); stdout lines go to `on_line`."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE if on_line else subprocess.DEVNULL)
    if on_line is not None:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss / 1024, proc.returncode


# -- spm-sync -------------------------------------------------------------------------------------
def spm_child(config_json: str, source: str) -> None:
    """Child: one sync of `source` into a fresh DuckDB; prints records per raw table."""
    from spm_sync.config import parse_config
    from spm_sync.extract import sync_source
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    cfg = parse_config(json.loads(config_json))
    with open_store(cfg) as store:
        result = sync_source(cfg, store, source, run=Run(job="sync"))
    print(json.dumps({"records": result.records, "warnings": result.warnings}), flush=True)


def run_spm(box: SandboxChild, crm: str, work: Path, rate_limit: int) -> Outcome:
    folder = Path(tempfile.mkdtemp(prefix=f"spm_{crm}_", dir=work))
    if crm == "hubspot":
        hs = box.desc["hubspot"]
        source = {"name": "hs", "type": "hubspot", "base_url": hs["base_url"], "access_token": hs["access_token"],
                  "rate_limit": {"requests_per_10s": rate_limit}}
    else:
        sf = box.desc["salesforce"]
        source = {"name": "sf", "type": "salesforce", "instance_url": sf["instance_url"],
                  "session_id": sf["session_id"], "ca_bundle": sf["ca_bundle"]}
    config = {"store": {"path": str(folder / "bench.duckdb"), "state_dir": str(folder / "state")},
              "sources": [source]}
    lines: list[bytes] = []
    wall, peak, code = measured([sys.executable, __file__, "--spm", json.dumps(config), source["name"]],
                                on_line=lines.append)
    stats = box.stats(crm)
    out = Outcome(calls=stats["total"], throttled=stats["throttled"], wall_s=wall, peak_mb=peak,
                  endpoints=stats["by_endpoint"])
    if code == 0 and lines:
        report = json.loads(lines[-1])
        out.records = {k: v for k, v in report["records"].items() if v}
        out.note = "; ".join(report["warnings"])[:200]
    else:
        out.note = f"exit {code}"
    return out


# -- Airbyte --------------------------------------------------------------------------------------
def airbyte_venv(crm: str, work: Path) -> Path:
    """The connector's own venv under `work` (created once, reused by later runs)."""
    venv = work / f"airbyte-{crm}"
    if not (venv / "bin" / f"source-{crm}").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"airbyte-source-{crm}"], check=True)
    return venv


def patch(venv: Path, crm: str, url: str) -> None:
    """Point the installed copy at the sandbox: the hard-coded base/token URL replaced in these files."""
    package, files, original = PATCHES[crm]
    site = next((venv / "lib").glob("python3*/site-packages"))
    for name in files:
        path = site / package / name
        pristine = path.with_name(name + ".orig")
        if not pristine.exists():
            shutil.copy(path, pristine)
        text = pristine.read_text()
        if original not in text and crm == "hubspot":
            continue
        if original not in text:
            raise SystemExit(f"{path}: {original!r} not found; this Airbyte version is not supported")
        path.write_text(text.replace(original, url))
        shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)


def catalog(venv: Path, crm: str, config: Path, wanted: set[str], env: dict[str, str]) -> dict[str, Any]:
    """Discover, keep `wanted` streams, first sync mode incremental where offered."""
    out = subprocess.run([str(venv / "bin" / f"source-{crm}"), "discover", "--config", str(config)],
                         capture_output=True, text=True, env=env, check=False)
    streams = []
    for line in out.stdout.splitlines():
        message = orjson.loads(line) if line.startswith("{") else {}
        for stream in (message.get("catalog") or {}).get("streams", []):
            if stream["name"] not in wanted:
                continue
            incremental = "incremental" in stream.get("supported_sync_modes", [])
            streams.append({"stream": stream, "sync_mode": "incremental" if incremental else "full_refresh",
                            "destination_sync_mode": "append",
                            "cursor_field": stream.get("default_cursor_field") or []})
    if not streams:
        raise SystemExit(f"airbyte {crm} discover found none of {sorted(wanted)}:\n{out.stdout[-2000:]}")
    return {"streams": streams}


def run_airbyte(box: SandboxChild, crm: str, work: Path) -> Outcome:
    venv = airbyte_venv(crm, work)
    env = {**os.environ}
    if crm == "hubspot":
        hs = box.desc["hubspot"]
        patch(venv, crm, hs["base_url"])
        config = {"credentials": {"credentials_title": "Private App Credentials", "access_token": hs["access_token"]},
                  "start_date": START}
        wanted = {s for streams in HUBSPOT_STREAMS.values() for s in streams}
    else:
        sf = box.desc["salesforce"]
        patch(venv, crm, sf["instance_url"])
        config = {"client_id": "bench", "client_secret": "bench", "refresh_token": sf["refresh_token"],
                  "is_sandbox": False, "start_date": START}
        wanted = set(SALESFORCE_OBJECTS)
        env.update(REQUESTS_CA_BUNDLE=sf["ca_bundle"], CURL_CA_BUNDLE=sf["ca_bundle"], SSL_CERT_FILE=sf["ca_bundle"])
    folder = Path(tempfile.mkdtemp(prefix=f"airbyte_{crm}_", dir=work))
    (folder / "config.json").write_text(json.dumps(config))
    configured = catalog(venv, crm, folder / "config.json", wanted, env)
    (folder / "catalog.json").write_text(json.dumps(configured))
    before = box.stats(crm)
    records: dict[str, int] = {}
    errors: list[str] = []

    def on_line(line: bytes) -> None:
        if line.startswith(b'{"type":"RECORD"') or line.startswith(b'{"type": "RECORD"'):
            stream = orjson.loads(line)["record"]["stream"]
            records[stream] = records.get(stream, 0) + 1
        elif b'"level":"ERROR"' in line[:120] or b'"trace":{"type":"ERROR"' in line[:60]:
            errors.append(line.decode(errors="replace")[:300])

    wall, peak, code = measured([str(venv / "bin" / f"source-{crm}"), "read", "--config", str(folder / "config.json"),
                                 "--catalog", str(folder / "catalog.json")], env=env, on_line=on_line,
                                cwd=folder)  # Airbyte's Salesforce source downloads Bulk results into its cwd
    after = box.stats(crm)
    note = f"exit {code}; " if code else ""
    return Outcome(calls=after["total"] - before["total"], throttled=after["throttled"] - before["throttled"],
                   wall_s=wall, peak_mb=peak, records=records, note=(note + " | ".join(errors[:2]))[:300],
                   streams={s["stream"]["name"] for s in configured["streams"]},
                   endpoints={k: n - before["by_endpoint"].get(k, 0) for k, n in after["by_endpoint"].items()
                              if n > before["by_endpoint"].get(k, 0)})


# -- report ---------------------------------------------------------------------------------------
def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def table(crm: str, spm: Outcome, peer: Outcome, pairs: dict[str, tuple[str, ...]]) -> None:
    print(f"\n{crm}: spm-sync vs Airbyte source-{crm.lower()} (Airbyte source-only: no destination)")
    print(f"{'':<28}{'spm-sync':>14}{'Airbyte':>14}{'Airbyte/spm':>13}")
    for label, a, b, fmt in (("API calls", spm.calls, peer.calls, "{:,.0f}"),
                             ("wall s", spm.wall_s, peer.wall_s, "{:,.1f}"),
                             ("peak RSS MB", spm.peak_mb, peer.peak_mb, "{:,.0f}"),
                             ("429s", spm.throttled, peer.throttled, "{:,.0f}")):
        print(f"{label:<28}{fmt.format(a):>14}{fmt.format(b):>14}{ratio(b, a):>13}")
    for name, streams in pairs.items():
        offered = [s for s in streams if s in peer.streams]
        theirs = f"{sum(peer.records.get(s, 0) for s in offered):,}" if offered else "not offered"
        print(f"{'records ' + name:<28}{spm.records.get(name, 0):>14,}{theirs:>14}   ({'+'.join(streams)})")
    for who, outcome in (("spm-sync", spm), ("Airbyte", peer)):
        top = sorted(outcome.endpoints.items(), key=lambda kv: -kv[1])[:6]
        print(f"  {who} calls by endpoint: " + ", ".join(f"{k} {n:,}" for k, n in top))
        if outcome.note:
            print(f"  {who}: {outcome.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--scale", default="medium", help="small, medium, large or a number of reps")
    parser.add_argument("--rate-limit", type=int, default=190, help="HubSpot requests per 10 s (both tools)")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "spm_sync_bench_peers",
                        help="temp folder for Airbyte's venvs (kept for reuse) and the runs' files")
    parser.add_argument("--crm", choices=("hubspot", "salesforce", "both"), default="both")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--spm", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1], int(args.serve[2]))
        return
    if args.spm:
        spm_child(*args.spm)
        return
    args.work_dir.mkdir(parents=True, exist_ok=True)
    crms = ("hubspot", "salesforce") if args.crm == "both" else (args.crm,)
    print(f"seed {args.seed}, scale {args.scale}, HubSpot rate limit {args.rate_limit}/10 s; "
          f"load average {os.getloadavg()[0]:.1f}")
    results: dict[str, dict[str, Outcome]] = {crm: {} for crm in crms}
    # Two sandboxes: each tool meets a fresh emulator of each CRM, never one the other tool used.
    for order in (("spm", "airbyte"), ("airbyte", "spm")):
        box = SandboxChild(args.seed, args.scale, args.rate_limit)
        try:
            for crm, tool in zip(crms, order, strict=False):
                print(f"  {tool} {crm} ...", flush=True)
                results[crm][tool] = (run_spm(box, crm, args.work_dir, args.rate_limit) if tool == "spm"
                                      else run_airbyte(box, crm, args.work_dir))
        finally:
            box.close()
    salesforce_pairs = {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(): (name,) for name in SALESFORCE_OBJECTS}
    for crm, outcome in results.items():
        table("HubSpot" if crm == "hubspot" else "Salesforce", outcome["spm"], outcome["airbyte"],
              HUBSPOT_STREAMS if crm == "hubspot" else salesforce_pairs)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
