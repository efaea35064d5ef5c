"""Benchmark: the crediting layer and the KPIs over it, with owner history, splits and team moves.

bench_metrics.py's store holds no crediting data (every deal credits its current owner); this one
copies it and adds the data set's owner changes, revenue splits (plus the lone 100 % owner split
Salesforce adds to every other opportunity) and dated team history into spm.*, then times
`credits.apply` (normalize's last step) and compute_kpis under `crediting.owner: at_close`.

    .venv/bin/python benchmarks/bench_crediting.py                # scale large (reuses bench_metrics' store)
    .venv/bin/python benchmarks/bench_crediting.py --scale 200
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_metrics import AS_OF, DATA, build_store  # noqa: E402

LOAD_SQL = {  # spm table <- data set table
    ("owner_changes", "owner_changes"): """SELECT 'sb:o' || opportunity_id AS opportunity_id, 'sandbox' AS source,
        'sb:' || old_rep_id AS old_owner_rep_id, 'sb:' || new_rep_id AS new_owner_rep_id,
        timezone('UTC', changed_at) AS changed_at FROM src""",
    ("opportunity_splits", "opportunity_splits"): """SELECT 'sb:s' || split_id AS split_id, 'sandbox' AS source,
        'sb:o' || opportunity_id AS opportunity_id, 'sb:' || rep_id AS owner_rep_id, percentage, split_type FROM src""",
    ("rep_team_history", "team_history"): """SELECT 'sb:' || rep_id AS rep_id, 'sb:t' || team_id AS team_id,
        valid_from, valid_to, 'file' AS origin FROM src""",
}


def build(path: Path, scale: str) -> None:
    """bench_metrics' store (built once, cached) plus the crediting tables."""
    from spm_sync.config import StoreConfig
    from spm_sync.sandbox.dataset import generate
    from spm_sync.store import open_store

    metrics_store = DATA / f"metrics_{scale}.duckdb"
    if not metrics_store.exists():
        build_store(metrics_store, scale)
    shutil.copy(metrics_store, path)
    dataset = generate(seed=7, scale=scale, as_of=AS_OF)
    store = open_store(StoreConfig(path=path))
    con = store.connection
    for (table, source), select in LOAD_SQL.items():
        con.register("src", getattr(dataset, source))
        columns = [d[0] for d in con.execute(f"SELECT * FROM ({select}) LIMIT 0").description]
        con.execute(f"INSERT INTO spm.{table} ({', '.join(columns)}) {select}")
        con.unregister("src")
    con.execute("""INSERT INTO spm.opportunity_splits (split_id, source, opportunity_id, owner_rep_id, percentage,
        split_type) SELECT 'sb:lone' || o.crm_id, 'sandbox', o.opportunity_id, o.owner_rep_id, 100, 'Revenue'
        FROM spm.opportunities AS o
        WHERE o.opportunity_id NOT IN (SELECT opportunity_id FROM spm.opportunity_splits)""")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="large")
    args = parser.parse_args()
    from spm_sync.config import parse_config
    from spm_sync.crediting import credits
    from spm_sync.metrics import compute_kpis
    from spm_sync.runs import Run
    from spm_sync.store import open_store

    path = DATA / f"crediting_{args.scale}.duckdb"
    started = time.perf_counter()
    build(path, args.scale)
    print(f"built {path.name} in {time.perf_counter() - started:.1f} s")
    cfg = parse_config({"store": {"path": str(path)}, "as_of": AS_OF.isoformat()})
    with open_store(cfg) as store:
        counts = {t: store.fetchone(f"SELECT count(*) FROM spm.{t}")[0]
                  for t in ("opportunities", "owner_changes", "opportunity_splits", "rep_team_history")}
        started = time.perf_counter()
        credits.apply(cfg, store, AS_OF)
        crediting_s = time.perf_counter() - started
        rules = store.fetchall("SELECT rule, count(*) FROM spm.opportunity_credits GROUP BY rule ORDER BY rule")
        started = time.perf_counter()
        result = compute_kpis(cfg, store, Run(job="kpis"))
        kpis_s = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; input rows {counts}")
    print(f"credits.apply: {crediting_s:.2f} s wall -> credit rows by rule {dict(rules)}")
    print(f"compute_kpis over the credits: {kpis_s:.2f} s wall; {result.values:,} values")
    print(f"process CPU {usage.ru_utime + usage.ru_stime:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
