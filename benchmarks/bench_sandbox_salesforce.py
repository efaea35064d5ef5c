"""Benchmark: how fast the Salesforce emulator serves REST query pages and Bulk API 2.0 CSV.

Prints, for the Opportunity object of the chosen scale:
- org build time (dataset shaping + load),
- SOQL evaluation of `WHERE SystemModstamp >= X ORDER BY SystemModstamp` over every opportunity,
- server time per 2,000-record REST page (render + JSON, in process) and pages/s over HTTPS
  (requests with keep-alive, body read, no JSON parsing on the client),
- Bulk API 2.0: job to JobComplete, then every result page (maxRecords=50,000) over HTTPS, in MB/s.

    .venv/bin/python benchmarks/bench_sandbox_salesforce.py                  # scale medium (100k opps)
    .venv/bin/python benchmarks/bench_sandbox_salesforce.py --scale large    # 1M opportunities

Targets: a 2,000-record page in a few ms of server time; Bulk results stream at tens of MB/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FIELDS = ("Id, Name, AccountId, OwnerId, StageName, Amount, CurrencyIsoCode, CloseDate, Type, IsClosed, IsWon, "
          "IsDeleted, ARR__c, CreatedDate, LastModifiedDate, SystemModstamp")
SOQL = f"SELECT {FIELDS} FROM Opportunity WHERE SystemModstamp >= 2000-01-01T00:00:00Z ORDER BY SystemModstamp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", help="small | medium | large | number of reps")
    parser.add_argument("--pages", type=int, default=50, help="REST pages to fetch over HTTPS")
    args = parser.parse_args()
    scale: str | int = int(args.scale) if args.scale.isdigit() else args.scale

    import numpy as np
    import requests

    from spm_sync.sandbox.dataset import generate
    from spm_sync.sandbox.salesforce import SalesforceSandbox, render, shaping, soql
    from spm_sync.sandbox.salesforce.query import evaluate

    dataset = generate(7, scale, as_of=date(2025, 6, 15))
    started = time.perf_counter()
    sandbox = SalesforceSandbox(None, bulk_delay_s=0.0)
    sandbox.org.load(shaping.shape(dataset))
    build_s = time.perf_counter() - started
    table = sandbox.org.tables["Opportunity"]
    print(f"scale {args.scale}: {table.n:,} opportunities; org built in {build_s:.2f} s")

    parsed = soql.parse(SOQL)
    started = time.perf_counter()
    result = evaluate(parsed, table, include_deleted=True, today=date(2025, 6, 15))
    print(f"evaluate modstamp filter + order over {table.n:,} rows: {(time.perf_counter() - started) * 1000:.1f} ms")

    import orjson

    pages = [result.rows[i : i + 2000] for i in range(0, min(len(result.rows), 2000 * args.pages), 2000)]
    started = time.perf_counter()
    for rows in pages:
        orjson.dumps(render.records(table, result.fields, rows, "/services/data/v59.0"))
    server_ms = (time.perf_counter() - started) * 1000 / len(pages)
    print(f"server time per 2,000-record page (render + JSON): {server_ms:.2f} ms")

    with sandbox:
        session = requests.Session()
        session.verify = sandbox.ca_bundle
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {sandbox.session_id}"
        base = f"{sandbox.instance_url}/services/data/v59.0"
        started = time.perf_counter()
        body = session.get(f"{base}/queryAll", params={"q": SOQL}).json()
        fetched, size = 1, 0
        while not body["done"] and fetched < args.pages:
            response = session.get(f"{sandbox.instance_url}{body['nextRecordsUrl']}")
            size += len(response.content)
            fetched += 1
            body = orjson.loads(response.content) if fetched < args.pages else {"done": True}
        elapsed = time.perf_counter() - started
        print(f"REST over HTTPS: {fetched} pages of 2,000 in {elapsed:.2f} s = {fetched / elapsed:.1f} pages/s "
              f"({size / max(fetched - 1, 1) / 1e6:.2f} MB/page)")

        started = time.perf_counter()
        job = session.post(f"{base}/jobs/query", json={"operation": "queryAll", "query": SOQL}).json()
        while session.get(f"{base}/jobs/query/{job['id']}").json()["state"] != "JobComplete":
            time.sleep(0.01)
        total_bytes, records, locator = 0, 0, None
        while locator != "null":
            params = {"maxRecords": 50_000, **({"locator": locator} if locator else {})}
            response = session.get(f"{base}/jobs/query/{job['id']}/results", params=params)
            total_bytes += len(response.content)
            records += int(response.headers["Sforce-NumberOfRecords"])
            locator = response.headers["Sforce-Locator"]
        elapsed = time.perf_counter() - started
        print(f"Bulk 2.0 over HTTPS: {records:,} records, {total_bytes / 1e6:.1f} MB in {elapsed:.2f} s = "
              f"{total_bytes / 1e6 / elapsed:.1f} MB/s")
        assert records == len(result.rows) == int(np.sum(~table.purged))
        print(f"requests counted: {sandbox.stats()['by_endpoint']}")


if __name__ == "__main__":
    main()
