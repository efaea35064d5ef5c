"""API calls of `spm-sync writeback setup` on a new org and portal (sandbox started without KPI fields).

Counts come from the sandbox servers' own `/__sandbox/stats`. Three runs: a dry run (reads only), the
setup from nothing, and a second setup (must make no call that changes anything). The targets are the
demo's shape scaled by `--metrics`: a Salesforce User target, a Salesforce upsert target on a new
custom object (name, lookup, period), and a HubSpot users target, each mapping `--metrics` metrics,
with `--readers` usernames and one profile in `kpi_access`.

Minimum writes on Salesforce: 1 per custom object + 1 per field (the Tooling API creates one
component a call) + 2 permission sets + ceil(rows / 200) for each of object permissions, field
permissions and assignments. On HubSpot: 1 group per object type + 1 per property.

    .venv/bin/python benchmarks/bench_writeback_setup.py [--metrics 8] [--readers 5]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from spm_sync.config import parse_config  # noqa: E402
from spm_sync.metrics.definitions import load_catalog  # noqa: E402
from spm_sync.sandbox import Sandbox  # noqa: E402
from spm_sync.sandbox.dataset import generate  # noqa: E402
from spm_sync.writeback.setup import setup  # noqa: E402

SF_WRITES = ("tooling_sobjects", "composite_sobjects", "sobject")
HS_WRITES = ("property_create", "property_group_create")


def document(sb: Sandbox, metrics: list[str], readers: int, folder: Path) -> dict[str, Any]:
    org = sb.salesforce.org
    names = [str(org.get("User", i)["Username"]) for i in org.ids("User")]
    sf_fields = {m: f"{''.join(w.capitalize() for w in m.split('_'))}__c" for m in metrics}
    return {
        "store": {"path": str(folder / "spm_sync.duckdb")},
        "sources": [
            {"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
             "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle,
             "kpi_access": {"users": names[1 : 1 + readers], "profiles": ["Standard User"], "editors": names[:1]}},
            {"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url, "access_token": sb.hubspot.access_token},
        ],
        "writeback": [
            {"name": "sf_reps", "source": "sf", "object": "User", "fields": sf_fields,
             "period_field": "KPI_Period__c", "computed_at_field": "KPI_Computed_At__c"},
            {"name": "sf_history", "source": "sf", "object": "Rep_KPI__c", "mode": "upsert",
             "external_id_field": "Rep_Period_Key__c", "name_field": "Name", "lookup_field": "Rep__c",
             "period_field": "Period__c", "fields": sf_fields},
            {"name": "hs_reps", "source": "hs", "object": "users", "fields": {m: f"spm_{m}" for m in metrics},
             "period_field": "spm_kpi_period"},
        ],
    }


def counts(sb: Sandbox) -> tuple[dict[str, int], dict[str, int]]:
    return sb.salesforce.stats()["by_endpoint"], sb.hubspot.stats()["by_endpoint"]


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=8, help="metrics per target")
    parser.add_argument("--readers", type=int, default=5, help="usernames given read access")
    args = parser.parse_args()
    metrics = [m.name for m in load_catalog().visible][: args.metrics]
    dataset = generate(seed=7, scale="small", as_of=date(2026, 3, 15))
    with tempfile.TemporaryDirectory() as tmp, Sandbox(dataset=dataset, kpi_fields=False) as sb:
        cfg = parse_config(document(sb, metrics, args.readers, Path(tmp)), env={})
        for label, dry_run in (("dry run", True), ("from nothing", False), ("again", False)):
            before = counts(sb)
            started = time.perf_counter()
            result = setup(cfg, dry_run=dry_run)
            wall = time.perf_counter() - started
            sf, hs = (delta(a, b) for a, b in zip(counts(sb), before, strict=True))
            sf_plan, hs_plan = result.plans
            print(f"{label}: {wall:.2f} s")
            print(f"  salesforce: {sum(sf.values())} calls ({sum(sf.get(e, 0) for e in SF_WRITES)} writes) {sf}; "
                  f"plan {sf_plan.count('create')} create / {sf_plan.count('exists')} exist")
            print(f"  hubspot:    {sum(hs.values())} calls ({sum(hs.get(e, 0) for e in HS_WRITES)} writes) {hs}; "
                  f"plan {hs_plan.count('create')} create / {hs_plan.count('exists')} exist")
            if label == "from nothing":
                creates = [c for c in sf_plan.changes if c.status == "create"]
                kinds = {w: sum(1 for c in creates if c.what == w) for w in {c.what for c in creates}}
                minimum = (kinds.get("object", 0) + kinds.get("field", 0) + kinds.get("permission set", 0)
                           + sum(math.ceil(kinds.get(w, 0) / 200)
                                 for w in ("object permission", "field permission", "assignment")))
                written = sum(sf.get(e, 0) for e in SF_WRITES)
                print(f"  salesforce writes {written} vs minimum {minimum} (ratio {written / minimum:.2f}); "
                      f"hubspot writes {sum(hs.get(e, 0) for e in HS_WRITES)} vs minimum "
                      f"{hs_plan.count('create')}")


if __name__ == "__main__":
    main()
