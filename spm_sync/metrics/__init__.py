"""The metrics stage: KPI definitions (YAML) compiled to SQL over `spm.*`, per rep, team and company.

Built-in definitions live in `kpis.yaml` beside this file; users add their own under `metrics:` in
config, in the same shape.
"""

from spm_sync.metrics import calendar
from spm_sync.metrics.calendar import fiscal_periods, resolve_period
from spm_sync.metrics.compute import KpiResult, compute_kpis
from spm_sync.metrics.definitions import KpiDefinitionError, load_catalog
from spm_sync.metrics.query import KpiFilter, query_kpis

__all__ = [
    "KpiDefinitionError",
    "KpiFilter",
    "KpiResult",
    "calendar",
    "compute_kpis",
    "fiscal_periods",
    "load_catalog",
    "query_kpis",
    "resolve_period",
]
