"""The store's layout: every DDL statement of the `spm` and `spm_state` schemas, as versioned migrations.

A migration is applied once, in order, inside a transaction, and recorded in
`spm_state.schema_migrations`; adding a column or table means appending a migration, never editing
an applied one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS_TABLE = "spm_state.schema_migrations"

BOOTSTRAP = (
    "CREATE SCHEMA IF NOT EXISTS spm_state",
    f"""CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMP NOT NULL
    )""",
)

NORMALIZED_TABLES: dict[str, str] = {
    "reps": """rep_id TEXT PRIMARY KEY, source TEXT, crm_id TEXT, name TEXT, email TEXT, team_id TEXT,
        manager_rep_id TEXT, is_active BOOLEAN""",
    "rep_identities": "rep_id TEXT, source TEXT, crm_id TEXT, crm_user_id TEXT, email TEXT",
    "teams": "team_id TEXT PRIMARY KEY, name TEXT, parent_team_id TEXT",
    "accounts": """account_id TEXT PRIMARY KEY, source TEXT, crm_id TEXT, name TEXT, owner_rep_id TEXT,
        created_at TIMESTAMP""",
    "opportunities": """opportunity_id TEXT PRIMARY KEY, source TEXT, crm_id TEXT, account_id TEXT, owner_rep_id TEXT,
        name TEXT, stage TEXT, stage_category TEXT, is_closed BOOLEAN, is_won BOOLEAN, amount DOUBLE, currency TEXT,
        amount_rc DOUBLE, recurring_amount_rc DOUBLE, deal_type TEXT, created_at TIMESTAMP, close_date DATE,
        is_deleted BOOLEAN, updated_at TIMESTAMP""",
    "stage_events": "opportunity_id TEXT, stage TEXT, stage_category TEXT, entered_at TIMESTAMP",
    "leads": """lead_id TEXT PRIMARY KEY, source TEXT, owner_rep_id TEXT, created_at TIMESTAMP, status TEXT,
        is_converted BOOLEAN, converted_at TIMESTAMP""",
    "activities": """activity_id TEXT PRIMARY KEY, source TEXT, owner_rep_id TEXT, kind TEXT, occurred_at TIMESTAMP,
        is_completed BOOLEAN, account_id TEXT, opportunity_id TEXT""",
    "feedback": """feedback_id TEXT PRIMARY KEY, source TEXT, kind TEXT, score DOUBLE, comment TEXT,
        submitted_at TIMESTAMP, account_id TEXT, rep_id TEXT""",
    "quotas": "owner TEXT, source TEXT, period_start DATE, period_end DATE, measure TEXT, amount_rc DOUBLE",
    "activity_targets": "owner TEXT, source TEXT, period_start DATE, period_end DATE, kind TEXT, target DOUBLE",
    "currency_rates": "source TEXT, currency TEXT, rate DOUBLE",
    "fiscal_periods": "period TEXT PRIMARY KEY, grain TEXT, period_start DATE, period_end DATE, fiscal_year INTEGER",
    "kpi_values": """entity_type TEXT, entity_id TEXT, period TEXT, metric TEXT, value DOUBLE, numerator DOUBLE,
        denominator DOUBLE, computed_at TIMESTAMP, run_id TEXT""",
}

STATE_TABLES: dict[str, str] = {
    "runs": """run_id TEXT PRIMARY KEY, job TEXT NOT NULL, subject TEXT, started_at TIMESTAMP NOT NULL,
        ended_at TIMESTAMP, status TEXT NOT NULL, records JSON, api_calls JSON, api_budget JSON,
        error_class TEXT, error_message TEXT, details JSON""",
    "kpi_history": """entity_type TEXT, entity_id TEXT, period TEXT, metric TEXT, value DOUBLE, numerator DOUBLE,
        denominator DOUBLE, computed_at TIMESTAMP, run_id TEXT""",
    "quality": """run_id TEXT, source TEXT, check_name TEXT, object TEXT, record_id TEXT, detail TEXT,
        found_at TIMESTAMP""",
    "writeback_ledger": """target TEXT, record_id TEXT, field TEXT, entity_id TEXT, period TEXT, metric TEXT,
        value_sent TEXT, kpi_run_id TEXT, run_id TEXT, sent_at TIMESTAMP, outcome TEXT, error_code TEXT,
        error_message TEXT""",
    "backfills": """backfill_id TEXT PRIMARY KEY, source TEXT, objects TEXT, window_start TIMESTAMP,
        window_end TIMESTAMP, checkpoint JSON, status TEXT, updated_at TIMESTAMP""",
}


def _create_tables(schema: str, tables: dict[str, str]) -> tuple[str, ...]:
    return tuple(f"CREATE TABLE IF NOT EXISTS {schema}.{name} ({columns})" for name, columns in tables.items())


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "normalized schema and state",
        ("CREATE SCHEMA IF NOT EXISTS spm",)
        + _create_tables("spm", NORMALIZED_TABLES)
        + _create_tables("spm_state", STATE_TABLES),
    ),
    Migration(
        10,
        "normalize: drop primary keys of rebuilt tables (uniqueness is enforced by the build; keys cost ~2 s/M rows)",
        tuple(
            statement
            for table in ("reps", "teams", "accounts", "opportunities", "leads", "activities", "feedback")
            for statement in (
                f"CREATE TABLE spm.{table}__v10 AS SELECT * FROM spm.{table}",
                f"DROP TABLE spm.{table}",
                f"ALTER TABLE spm.{table}__v10 RENAME TO {table}",
            )
        ),
    ),
    Migration(
        11,
        "normalize: the CRM's own fiscal calendar (Salesforce Period), in our period ids",
        (
            """CREATE TABLE IF NOT EXISTS spm.fiscal_periods_imported (period TEXT, source TEXT, crm_id TEXT,
            grain TEXT, period_start DATE, period_end DATE, fiscal_year INTEGER)""",
        ),
    ),
    Migration(
        40,
        "schedule runs",
        (
            """CREATE TABLE IF NOT EXISTS spm_state.schedule_runs (schedule TEXT, due_at TIMESTAMP,
            started_at TIMESTAMP, ended_at TIMESTAMP, status TEXT, error_message TEXT)""",
        ),
    ),
    Migration(
        41,
        "stale-data alerts sent",
        (
            """CREATE TABLE IF NOT EXISTS spm_state.stale_alerts (source TEXT, last_success TIMESTAMP,
            alerted_at TIMESTAMP)""",
        ),
    ),
    Migration(
        60,
        "crediting: mirror links, owner changes, splits, team history and the credits metrics read",
        (
            "ALTER TABLE spm.opportunities ADD COLUMN mirror_of TEXT",
            "ALTER TABLE spm.opportunities ADD COLUMN owner_assigned_at TIMESTAMP",
            "ALTER TABLE spm.accounts ADD COLUMN mirror_of TEXT",
            "ALTER TABLE spm.leads ADD COLUMN mirror_of TEXT",
            """CREATE TABLE IF NOT EXISTS spm.owner_changes (opportunity_id TEXT, source TEXT,
            old_owner_rep_id TEXT, new_owner_rep_id TEXT, changed_at TIMESTAMP)""",
            """CREATE TABLE IF NOT EXISTS spm.opportunity_splits (split_id TEXT, source TEXT, opportunity_id TEXT,
            owner_rep_id TEXT, percentage DOUBLE, split_type TEXT, updated_at TIMESTAMP)""",
            """CREATE TABLE IF NOT EXISTS spm.rep_team_history (rep_id TEXT, team_id TEXT, valid_from DATE,
            valid_to DATE, origin TEXT)""",
            """CREATE TABLE IF NOT EXISTS spm.credit_membership (rep_id TEXT, team_id TEXT, valid_from DATE,
            valid_to DATE)""",
            """CREATE TABLE IF NOT EXISTS spm.opportunity_credits (opportunity_id TEXT, source TEXT, rep_id TEXT,
            team_id TEXT, share DOUBLE, credited_on DATE, rule TEXT, in_totals BOOLEAN)""",
            """CREATE TABLE IF NOT EXISTS spm_state.team_observations (rep_id TEXT, team_id TEXT, valid_from DATE,
            valid_to DATE)""",
        ),
    ),
    Migration(
        70,
        "input rows refused by the row rules, and the KPIs computed without them",
        (
            """CREATE TABLE IF NOT EXISTS spm.rejected_inputs (source TEXT, input TEXT, origin TEXT, column_name TEXT,
            value TEXT, check_name TEXT, reason TEXT, owner TEXT, period_start DATE, period_end DATE)""",
            """CREATE TABLE IF NOT EXISTS spm.kpi_flags (entity_type TEXT, entity_id TEXT, period TEXT, metric TEXT,
            input TEXT, rejected_rows INTEGER)""",
        ),
    ),
    Migration(
        90,
        "runs: the process running each (host, pid, process start) to tell a killed run from a live one",
        (
            "ALTER TABLE spm_state.runs ADD COLUMN host TEXT",
            "ALTER TABLE spm_state.runs ADD COLUMN pid INTEGER",
            "ALTER TABLE spm_state.runs ADD COLUMN process_started TEXT",
        ),
    ),
    Migration(
        100,
        "celebrations sent (once per entity x period x threshold) and weekly digests sent",
        (
            """CREATE TABLE IF NOT EXISTS spm_state.celebrations (entity_type TEXT, entity_id TEXT, period TEXT,
            threshold DOUBLE, value DOUBLE, sent_at TIMESTAMP)""",
            "CREATE TABLE IF NOT EXISTS spm_state.digests (week TEXT, period TEXT, sent_at TIMESTAMP)",
        ),
    ),
    Migration(
        110,
        "practices: KPI breakdowns by a dimension, loss/win reasons and lead source, rep feedback topics",
        (
            "ALTER TABLE spm.kpi_values ADD COLUMN dimension TEXT",
            "ALTER TABLE spm.kpi_values ADD COLUMN dimension_value TEXT",
            "ALTER TABLE spm_state.kpi_history ADD COLUMN dimension TEXT",
            "ALTER TABLE spm_state.kpi_history ADD COLUMN dimension_value TEXT",
            "ALTER TABLE spm.opportunities ADD COLUMN loss_reason TEXT",
            "ALTER TABLE spm.opportunities ADD COLUMN won_reason TEXT",
            "ALTER TABLE spm.opportunities ADD COLUMN lead_source TEXT",
            "ALTER TABLE spm.feedback ADD COLUMN topic TEXT",
        ),
    ),
    Migration(
        111,
        "practices: the lead an activity was about (days to the first activity of a new lead)",
        ("ALTER TABLE spm.activities ADD COLUMN lead_id TEXT",),
    ),
    Migration(
        130,
        "write-back ledger rows name the CRM org / portal they were written to",
        ("ALTER TABLE spm_state.writeback_ledger ADD COLUMN crm_identity TEXT",),
    ),
)

LATEST_VERSION = max(m.version for m in MIGRATIONS)
