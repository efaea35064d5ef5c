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
    """INSERT into spm.kpi_flags (run after the compute steps: reads kpi_periods and kpi_team_tree). A
    rejected row marks its owner (a rep: the rep and every team it belonged to while the row applies,
    spm.credit_membership, and the teams above; a team: the team and the teams above), always the
    company, in every period overlapping the row (all periods when it has no dates), for every metric
    that reads the row's input table."""
    pairs = sorted((table, metric) for metric, tables in metric_inputs(catalog).items() for table in tables)
    if not pairs:
        return None
    values = ", ".join(f"({sql_literal(table)}, {sql_literal(metric)})" for table, metric in pairs)
    overlap = "(m.valid_from IS NULL OR h.period_end IS NULL OR m.valid_from < h.period_end) " \
        "AND (m.valid_to IS NULL OR h.period_start IS NULL OR h.period_start < m.valid_to)"
    return f"""INSERT INTO spm.kpi_flags (entity_type, entity_id, period, metric, input, rejected_rows)
WITH rows_ AS (
  SELECT ROW_NUMBER() OVER (ORDER BY source, origin, input) AS row_id, input, owner, period_start,
    COALESCE(period_end, period_start + 1) AS period_end
  FROM spm.rejected_inputs
), hit AS (
  SELECT r.*, p.period FROM rows_ AS r
  JOIN kpi_periods AS p ON r.period_start IS NULL OR (r.period_start < p.period_end AND p.period_start < r.period_end)
), marked AS (
  SELECT row_id, input, period, 'company' AS entity_type, '{COMPANY_ID}' AS entity_id FROM hit
  UNION
  SELECT row_id, input, period, 'rep', owner FROM hit WHERE owner IN (SELECT rep_id FROM spm.reps)
  UNION
  SELECT h.row_id, h.input, h.period, 'team', t.ancestor_id
  FROM hit AS h JOIN spm.credit_membership AS m ON m.rep_id = h.owner AND {overlap}
  JOIN kpi_team_tree AS t ON t.team_id = m.team_id
  UNION
  SELECT h.row_id, h.input, h.period, 'team', t.ancestor_id FROM hit AS h JOIN kpi_team_tree AS t ON t.team_id = h.owner
), depends AS (
  SELECT * FROM (VALUES {values}) AS d(input, metric)
)
SELECT e.entity_type, e.entity_id, e.period, d.metric, e.input, CAST(COUNT(*) AS INTEGER)
FROM marked AS e JOIN depends AS d ON d.input = e.input
GROUP BY e.entity_type, e.entity_id, e.period, d.metric, e.input"""
