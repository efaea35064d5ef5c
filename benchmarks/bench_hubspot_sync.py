"""Benchmark: HubSpot full + no-change incremental sync against the sandbox with its rate limit ON.

Issue 5's portal: 100,000 deals, 200,000 contacts, 500,000 engagements, 190 requests / 10 s.
Prints calls per object vs the API's minimum (`minimum_calls`: search or list pages, link reads, archived
listing, definitions), the emulator's own count (`/__sandbox/stats`, load-independent), wall and CPU time
vs the rate-limit bound (calls / allowed rate) with the 1-minute load average (the machine is shared),
429s received, no-change incremental search calls per object, and peak RSS of the syncing process (the
sandbox runs in a child process).

    .venv/bin/python benchmarks/bench_hubspot_sync.py            # the issue's scale (~9 minutes by construction)
    .venv/bin/python benchmarks/bench_hubspot_sync.py --quick    # 1/10 of it (~1 minute)

    .venv/bin/python benchmarks/bench_hubspot_sync.py --seed 3 --reps 200 --contacts 0   # issue 19: medium

Targets: calls <= 1.05 x minimum, wall <= 1.05 x bound, 0 429s, incremental <= 1 search per object,
peak RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENGAGEMENTS = ("calls", "emails", "meetings", "tasks")


def serve(seed: int, reps: int, contacts: int, rate_limit: int) -> None:
    """Child process: seed the portal, print its address and counts, serve until stdin closes."""
    from spm_sync.sandbox import Sandbox

    sandbox = Sandbox(seed=seed, scale=reps, rate_limit=rate_limit)
    portal = sandbox.hubspot.portal
    created = [
        portal.create("contacts", {"email": f"bench{i}@example.com", "firstname": "Bench", "lastname": str(i)})
        for i in range(max(0, contacts - len(portal.ids("contacts"))))
    ]
    if created:  # seeded long before the sync, as real contacts are (outside the incremental lookback)
        portal.set_modified("contacts", portal.now_ms() - 86_400_000, created)
    counts = {name: [len(portal.ids(name)), len(portal.ids(name, archived=True))] for name in portal.tables}
    counts["owners"] = [sum(not o.archived for o in portal.owners), sum(o.archived for o in portal.owners)]
    links = {
        f"{src}->{dst}": sum(1 for i in portal.ids(src) if len(portal.associations.targets(src, int(i), dst)[0]))
        for src, dsts in (("deals", ("companies",)), *((e, ("deals", "companies")) for e in ENGAGEMENTS),
                          ("feedback_submissions", ("companies",)))
        for dst in dsts
    }
    with sandbox:
        hs = sandbox.hubspot
        print(json.dumps({"base_url": hs.base_url, "access_token": hs.access_token, "counts": counts,
                          "links": links}), flush=True)
        sys.stdin.read()


def minimum_calls(counts: dict[str, list[int]]) -> dict[str, int]:
    """What the API allows at best, per object: searched objects 200 a call plus v4 link reads of 1,000 ids,
    the others list pages of 100 with links inline plus two association-type reads per pair; the archived
    listing and one properties call each (credit reads for deals are extra: they depend on the deals)."""
    from spm_sync.connectors.hubspot.settings import (
        ASSOCIATION_BATCH_SIZE,
        LIST_PAGE_SIZE,
        OWNERS_PAGE_SIZE,
        SEARCH_PAGE_SIZE,
        STANDARD_OBJECTS,
    )

    out = {}
    for obj in STANDARD_OBJECTS:
        live, archived = counts[obj.name]
        pages = max(1, math.ceil(archived / LIST_PAGE_SIZE))
        if obj.search_first_load:
            pages += max(1, math.ceil(live / SEARCH_PAGE_SIZE))
            links = len(obj.associations) * math.ceil(live / ASSOCIATION_BATCH_SIZE)
        else:
            pages += max(1, math.ceil(live / LIST_PAGE_SIZE))
            links = 2 * len(obj.associations)
        out[obj.name] = pages + links + 1 + (1 if obj.stage_properties else 0)  # + properties (+ pipelines)
    live, archived = counts["owners"]
    out["owners"] = max(1, math.ceil(live / OWNERS_PAGE_SIZE)) + max(1, math.ceil(archived / OWNERS_PAGE_SIZE))
    return out


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emulator_total(base_url: str) -> int:
    """Requests the emulator counted since it started (`GET <base>/__sandbox/stats`, itself never counted)."""
    with urllib.request.urlopen(f"{base_url}/__sandbox/stats", timeout=30) as answer:
        return int(json.load(answer)["total"])


def by_object(families: dict[str, int]) -> Counter[str]:
    """`objects.deals.list` / `associations.deals.companies...` / `properties.deals` -> `deals`; the deals'
    owner-history and split reads -> `credit reads` (not in `minimum_calls`: they depend on the deals)."""
    grouped: Counter[str] = Counter()
    for family, n in families.items():
        parts = family.split(".")
        credit = family.endswith(".history") or family.startswith("deals.splits")
        grouped["credit reads" if credit else parts[1] if len(parts) > 1 else parts[0]] += n
    return grouped


def run(args: argparse.Namespace) -> None:
    import spm_sync.connectors.hubspot.client as client_module
    from spm_sync.config import parse_config
    from spm_sync.extract import sync_source
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    throttled: list[int] = [0]
    classify = client_module.HubSpotClient._classify

    def counting(self: Any, exc: Any, *rest: Any) -> Exception:
        if int(exc.status or 0) == 429:
            throttled[0] += 1
        return classify(self, exc, *rest)

    client_module.HubSpotClient._classify = counting  # type: ignore[method-assign]
    last_answer = [0.0]
    send = client_module.HubSpotClient._send

    def timed(self: Any, *rest: Any) -> Any:
        try:
            return send(self, *rest)
        finally:
            last_answer[0] = time.monotonic()

    client_module.HubSpotClient._send = timed  # type: ignore[method-assign]

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--seed", str(args.seed), "--reps", str(args.reps),
         "--contacts", str(args.contacts), "--rate-limit", str(args.rate_limit)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        counts = info["counts"]
        tmp = Path(tempfile.mkdtemp(prefix="bench_hubspot_"))
        cfg = parse_config({
            "store": {"path": str(tmp / "bench.duckdb"), "state_dir": str(tmp / "state")},
            "sources": [{"name": "hs", "type": "hubspot", "base_url": info["base_url"],
                         "access_token": info["access_token"],
                         "rate_limit": {"requests_per_10s": args.rate_limit}}],
        })
        store = open_store(cfg)
        rate = args.rate_limit / 10.0
        print(f"portal: deals {counts['deals']}, contacts {counts['contacts']}, engagements "
              f"{sum(counts[e][0] for e in ENGAGEMENTS)} (live, archived); rate limit {args.rate_limit}/10 s")

        started, cpu = time.monotonic(), cpu_seconds()
        full = sync_source(cfg, store, "hs", run=Run(job="sync"))
        wall, cpu = time.monotonic() - started, cpu_seconds() - cpu
        served = emulator_total(info["base_url"])
        calls = by_object(full.api_calls["by_family"])
        minimum = minimum_calls(counts)
        print(f"\nfull sync: {sum(full.records.values()):,} rows in {wall:.1f} s "
              f"({sum(full.records.values()) / wall:,.0f} rows/s); warnings: {full.warnings}")
        print(f"{'object':<22}{'records':>10}{'calls':>8}{'minimum':>9}{'ratio':>7}")
        for name in sorted(minimum):
            ratio = calls[name] / minimum[name]
            print(f"{name:<22}{full.records.get(name, 0):>10,}{calls[name]:>8}{minimum[name]:>9}{ratio:>7.3f}")
        credit = calls["credit reads"]
        print(f"{'credit reads':<22}{'':>10}{credit:>8}{'':>9}   (deals' owner history and splits)")
        total, total_min = sum(calls.values()), sum(minimum.values())
        bound = total / rate
        print(f"{'total':<22}{'':>10}{total:>8}{total_min + credit:>9}{total / (total_min + credit):>7.3f}"
              "   (target <= 1.05)")
        searched = sum(n for family, n in full.api_calls["by_family"].items() if family.endswith(".search"))
        print(f"emulator counted {served} calls; {searched} of them searches ({searched / 5:.0f} s at 5 per s)")
        print(f"wall {wall:.1f} s (CPU {cpu:.1f} s, load average {os.getloadavg()[0]:.2f}) vs rate-limit bound "
              f"{bound:.1f} s ({total} calls / {rate:g} per s): {wall / bound:.3f} (target <= 1.05); "
              f"last API answer at {last_answer[0] - started:.1f} s ({(last_answer[0] - started) / bound:.3f}), "
              "the rest is dlt's normalize and load")
        print(f"429s received: {throttled[0]} (target 0)")
        print(f"associations: {full.records.get('associations', 0):,} rows; records with links: {info['links']}")

        throttled[0] = 0
        started = time.monotonic()
        again = sync_source(cfg, store, "hs", run=Run(job="sync"))
        searches = {k: v for k, v in again.api_calls["by_family"].items() if k.endswith(".search")}
        print(f"\nno-change incremental: {time.monotonic() - started:.1f} s, {again.api_calls['total']} calls, "
              f"max search calls per object {max(searches.values())} (target <= 1): {searches}")
        print(f"429s received: {throttled[0]}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS of the syncing process: {peak_mb:,.0f} MB (target <= 1,536 MB)")
        store.close()
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=200, help="sandbox reps (200 = 100k deals, 500k engagements)")
    parser.add_argument("--seed", type=int, default=7, help="sandbox seed (issue 19 measures seed 3)")
    parser.add_argument("--contacts", type=int, default=200_000, help="pad contacts to this many (0: as seeded)")
    parser.add_argument("--rate-limit", type=int, default=190, help="requests per 10 s (sandbox and client)")
    parser.add_argument("--quick", action="store_true", help="1/10 of the issue's scale")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.reps, args.contacts = max(1, args.reps // 10), args.contacts // 10
    if args.serve:
        serve(args.seed, args.reps, args.contacts, args.rate_limit)
    else:
        run(args)


if __name__ == "__main__":
    main()
