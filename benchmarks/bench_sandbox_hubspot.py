"""Benchmark the HubSpot emulator: seeding, memory, list and search pages per second.

Why: connector benchmarks run against this server, so its own cost per page must stay small
(a few ms per 100-record page) and search over a large portal must answer in milliseconds.

Usage: .venv/bin/python benchmarks/bench_sandbox_hubspot.py [--scale medium|large|REPS] [--pages 200]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from datetime import date

import requests

from spm_sync.sandbox.dataset import generate
from spm_sync.sandbox.hubspot import HubSpotSandbox


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    """Resident memory now (Linux /proc), to tell the portal's share from the generator's peak."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def list_pages(session: requests.Session, base: str, object_type: str, pages: int) -> tuple[int, float]:
    """Follow `after` through up to `pages` 100-record pages; returns (pages, seconds)."""
    after, done, start = None, 0, time.perf_counter()
    while done < pages:
        params = {"limit": 100, "properties": "dealname,amount,dealstage,closedate,hubspot_owner_id"}
        if after:
            params["after"] = after
        body = session.get(f"{base}/crm/v3/objects/{object_type}", params=params, timeout=30).json()
        done += 1
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    return done, time.perf_counter() - start


def search_pages(session: requests.Session, base: str, object_type: str, pages: int, limit: int,
                 since_ms: int) -> tuple[int, float, float, int]:
    """Incremental-sync search pages; returns (pages, seconds, first page seconds, total)."""
    body = {"filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms)}]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["dealname", "amount", "dealstage"], "limit": limit}
    start = time.perf_counter()
    first = session.post(f"{base}/crm/v3/objects/{object_type}/search", json=body, timeout=60).json()
    first_s = time.perf_counter() - start
    done, after = 1, first.get("paging", {}).get("next", {}).get("after")
    while after and done < pages and int(after) + limit <= 10_000:
        page = session.post(f"{base}/crm/v3/objects/{object_type}/search", json={**body, "after": after},
                            timeout=60).json()
        done += 1
        after = page.get("paging", {}).get("next", {}).get("after")
    return done, time.perf_counter() - start, first_s, int(first["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()

    t0 = time.perf_counter()
    ds = generate(7, args.scale, as_of=date(2025, 6, 15))
    t1 = time.perf_counter()
    with_dataset = current_mb()
    sandbox = HubSpotSandbox(ds, rate_limit=10**9, search_rate_limit=10**9, daily_limit=10**9)
    t2 = time.perf_counter()
    seeded = current_mb()
    del ds
    gc.collect()
    counts = {name: table.n for name, table in sandbox.portal.tables.items()}
    print(f"scale={args.scale} generate={t1 - t0:.1f}s seed={t2 - t1:.1f}s max_rss={rss_mb():.0f}MB "
          f"rss: dataset={with_dataset:.0f}MB +portal={seeded:.0f}MB portal only={current_mb():.0f}MB")
    print("records: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    with sandbox, requests.Session() as session:
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {sandbox.access_token}"
        base = sandbox.base_url
        pages, seconds = list_pages(session, base, "deals", args.pages)
        print(f"list deals: {pages} pages x 100 in {seconds:.2f}s = {pages / seconds:.0f} pages/s "
              f"({1000 * seconds / pages:.1f} ms/page)")
        for object_type in ("deals", "calls", "emails"):
            stamps = sandbox.portal.table(object_type).updated
            median = int(sorted(stamps.tolist())[len(stamps) // 2]) if len(stamps) else 0
            for limit in (100, 200):
                done, secs, first_s, total = search_pages(session, base, object_type, args.pages, limit, median)
                print(f"search {object_type} ({counts[object_type]} records, {total} match) limit={limit}: "
                      f"first page {1000 * first_s:.0f} ms, {done} pages in {secs:.2f}s = {done / secs:.0f} pages/s")
        print(f"max_rss after serving={rss_mb():.0f}MB")


if __name__ == "__main__":
    main()
