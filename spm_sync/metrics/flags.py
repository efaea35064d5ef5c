"""KPI values computed without some of their inputs: marked in `spm.kpi_flags`.

Why: normalize refuses input rows that cannot be right (a quota of `inf`, an unknown currency, two rows
contradicting each other) and lists them in `spm.rejected_inputs` with the owner x period they were
meant for. The KPIs of that owner, of the teams above it and of the company, for every period that
overlaps the row, are then computed without it: a rep's attainment against a missing quota looks
great and is wrong. Marking them lets `status` show it and write-back hold those values back.

Which metrics depend on which input follows from the catalog: a metric reads the `spm.<table>`s of
its model, and a ratio / derived / rank metric everything its parts read.
"""

from __future__ import annotations

import re

from spm_sync.metrics.compiler import COMPANY_ID
from spm_sync.metrics.definitions import Catalog, Primitive, Simple, Target, dependencies
from spm_sync.normalize.helpers import sql_literal

_TABLE = re.compile(r"\bspm\.(\w+)", re.IGNORECASE)


def metric_inputs(catalog: Catalog) -> dict[str, set[str]]:
    """metric -> the spm tables it is computed from (directly or through the metrics it uses)."""
    by_name = {m.name: m for m in catalog.metrics}
    found: dict[str, set[str]] = {}

    def inputs(metric: Primitive) -> set[str]:
        if metric.name not in found:
            found[metric.name] = set()  # a cycle is refused by check_catalog; this only stops recursion
            tables: set[str] = set()
            if isinstance(metric, Simple | Target):
                model = catalog.models.get(metric.model)
                tables = {t.lower() for t in _TABLE.findall(model.from_)} if model else set()
            for name in dependencies(metric):
                if name in by_name:
                    tables |= inputs(by_name[name])
            found[metric.name] = tables
        return found[metric.name]

    for metric in catalog.metrics:
        inputs(metric)
    return found


def insert_flags(catalog: Catalog) -> str | None:
    """INSERT into spm.kpi_flags (run after the compute steps: reads kpi_periods, kpi_membership and
    kpi_team_tree). A rejected row marks its owner (a rep: the rep and its teams; a team: the team and
    the teams above), always the company, in every period overlapping the row (all periods when the
    row has no dates), for every metric that reads the row's input table."""
    pairs = sorted((table, metric) for metric, tables in metric_inputs(catalog).items() for table in tables)
    if not pairs:
        return None
    values = ", ".join(f"({sql_literal(table)}, {sql_literal(metric)})" for table, metric in pairs)
    return f"""INSERT INTO spm.kpi_flags (entity_type, entity_id, period, metric, input, rejected_rows)
WITH hit AS (
  SELECT r.input, r.owner, p.period, COUNT(*) AS n
  FROM spm.rejected_inputs AS r
  JOIN kpi_periods AS p ON r.period_start IS NULL
    OR (r.period_start < p.period_end AND p.period_start < COALESCE(r.period_end, r.period_start + 1))
  GROUP BY r.input, r.owner, p.period
), marked AS (
  SELECT input, period, n, 'company' AS entity_type, '{COMPANY_ID}' AS entity_id FROM hit
  UNION ALL
  SELECT h.input, h.period, h.n, m.entity_type, m.entity_id
  FROM hit AS h JOIN kpi_membership AS m ON m.owner_id = h.owner
  UNION ALL
  SELECT h.input, h.period, h.n, 'team', t.ancestor_id FROM hit AS h JOIN kpi_team_tree AS t ON t.team_id = h.owner
), depends AS (
  SELECT * FROM (VALUES {values}) AS d(input, metric)
)
SELECT e.entity_type, e.entity_id, e.period, d.metric, e.input, CAST(SUM(e.n) AS INTEGER)
FROM marked AS e JOIN depends AS d ON d.input = e.input
GROUP BY e.entity_type, e.entity_id, e.period, d.metric, e.input"""
