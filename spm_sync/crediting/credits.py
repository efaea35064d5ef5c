"""The crediting layer: spm.* rows -> `spm.credit_membership` and `spm.opportunity_credits`.

Why a table of credits between normalize and metrics: the rules (owner at close from owner history,
revenue splits, overlays, the team on the credited date) are decided once, set-based in the store,
and every KPI, `explain` and the quality report read the same answer. One row per credited rep of
an opportunity: share (fractions of one deal), credited_on (close date; today for open pipeline),
rule, and in_totals (false for overlay credit, which never adds to team or company totals).
Mirrored copies (`mirror_of` set) and deleted opportunities get no credit.
"""

from __future__ import annotations

from datetime import date

from spm_sync.config import Config
from spm_sync.normalize.build import date_literal, valid_on
from spm_sync.normalize.helpers import sql_literal
from spm_sync.store import Store


def _in_list(values: list[str]) -> str:
    """A SQL IN list; an empty list matches nothing."""
    return "(" + ", ".join(sql_literal(v) for v in values) + ")" if values else "(NULL)"


def membership(owner_rule: str) -> str:
    """Membership the metrics use: the team history (reps without one: their current team) under
    `at_close`; the current team, always, under `current`.

    One team per rep and day, so a row counts once for its rep: where dated rows overlap, the row
    starting later wins (the earlier one is cut where it starts).
    """
    current = "SELECT r.rep_id, r.team_id, CAST(NULL AS DATE) AS valid_from, CAST(NULL AS DATE) AS valid_to " \
        "FROM spm.reps AS r"
    if owner_rule == "current":
        return f"INSERT INTO spm.credit_membership (rep_id, team_id, valid_from, valid_to)\n{current} " \
            "WHERE r.team_id IS NOT NULL"
    start = "coalesce(valid_from, DATE '0001-01-01')"
    return f"""INSERT INTO spm.credit_membership (rep_id, team_id, valid_from, valid_to)
WITH rows_ AS (
  SELECT rep_id, team_id, valid_from, valid_to FROM spm.rep_team_history WHERE team_id IS NOT NULL
  UNION ALL
  {current} WHERE r.team_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM spm.rep_team_history AS h WHERE h.rep_id = r.rep_id
  )
), ordered AS (
  SELECT rep_id, team_id, valid_from, valid_to,
    lead({start}) OVER (PARTITION BY rep_id ORDER BY {start}, valid_to NULLS LAST, team_id) AS next_start
  FROM rows_
)
SELECT rep_id, team_id, valid_from,
  CASE WHEN next_start < coalesce(valid_to, DATE '9999-12-31') THEN next_start ELSE valid_to END
FROM ordered WHERE next_start IS NULL OR {start} < next_start"""


def _primary(owner_rule: str, today: str) -> str:
    """`primary_credit`: one row per opportunity, the owner the rules credit with the whole deal."""
    if owner_rule == "current":
        rep, rule = "o.owner_rep_id", "'current_owner'"
    else:
        assigned = "o.owner_assigned_at IS NOT NULL AND CAST(o.owner_assigned_at AS DATE) <= o.close_date"
        rep = (
            f"CASE WHEN NOT o.is_closed OR {assigned} OR h.opportunity_id IS NULL THEN o.owner_rep_id "
            "ELSE h.rep_id END"
        )
        # reassigned after close (assigned date later) without history for it: no way to know the owner
        rule = (
            f"CASE WHEN NOT o.is_closed THEN 'current_owner' WHEN {assigned} OR h.opportunity_id IS NOT NULL "
            "THEN 'owner_at_close' WHEN o.owner_assigned_at IS NULL AND t.source IS NOT NULL THEN 'owner_at_close' "
            "ELSE 'owner_fallback_current' END"
        )
    return f"""primary_credit AS (
  SELECT o.opportunity_id, o.source, o.owner_rep_id AS current_rep_id, o.is_closed, {rep} AS rep_id, {rule} AS rule,
    CASE WHEN o.is_closed THEN o.close_date ELSE {today} END AS credited_on
  FROM opps AS o
  LEFT JOIN held AS h ON h.opportunity_id = o.opportunity_id
  LEFT JOIN tracked AS t ON t.source = o.source
)"""


def credits(owner_rule: str, split_types: list[str], overlay_types: list[str], as_of: date) -> str:
    """INSERT of every credit row; see the module docstring and docs/DESIGN.md "Crediting"."""
    today = date_literal(as_of)
    return f"""INSERT INTO spm.opportunity_credits (opportunity_id, source, rep_id, team_id, share, credited_on, rule,
  in_totals)
WITH opps AS (
  SELECT opportunity_id, source, owner_rep_id, close_date, owner_assigned_at,
    coalesce(is_closed, FALSE) OR coalesce(is_won, FALSE) AS is_closed
  FROM spm.opportunities WHERE NOT coalesce(is_deleted, FALSE) AND mirror_of IS NULL
), tracked AS (
  SELECT DISTINCT source FROM spm.owner_changes
), changes AS (
  SELECT c.opportunity_id, c.old_owner_rep_id, c.new_owner_rep_id,
    CAST(c.changed_at AS DATE) <= o.close_date AS before_close,
    ROW_NUMBER() OVER (PARTITION BY c.opportunity_id, CAST(c.changed_at AS DATE) <= o.close_date
      ORDER BY c.changed_at DESC) AS latest,
    ROW_NUMBER() OVER (PARTITION BY c.opportunity_id, CAST(c.changed_at AS DATE) <= o.close_date
      ORDER BY c.changed_at) AS earliest
  FROM spm.owner_changes AS c JOIN opps AS o ON o.opportunity_id = c.opportunity_id
  WHERE o.is_closed AND o.close_date IS NOT NULL AND c.changed_at IS NOT NULL
), held AS (
  SELECT opportunity_id,
    CASE WHEN count(CASE WHEN before_close THEN 1 END) > 0
      THEN max(CASE WHEN before_close AND latest = 1 THEN new_owner_rep_id END)
      ELSE max(CASE WHEN NOT before_close AND earliest = 1 THEN old_owner_rep_id END) END AS rep_id
  FROM changes GROUP BY opportunity_id
), {_primary(owner_rule, today)}, revenue AS (
  SELECT opportunity_id, owner_rep_id, percentage, split_type,
    count(*) OVER (PARTITION BY opportunity_id) AS n, sum(percentage) OVER (PARTITION BY opportunity_id) AS total
  FROM spm.opportunity_splits WHERE split_type IN {_in_list(split_types)} AND percentage > 0
), split_credit AS (
  SELECT p.opportunity_id, p.source,
    CASE WHEN r.owner_rep_id = p.current_rep_id THEN p.rep_id ELSE r.owner_rep_id END AS rep_id,
    CAST(r.percentage AS DOUBLE) / r.total AS share, 'split:' || r.split_type AS rule, p.credited_on,
    TRUE AS in_totals
  FROM primary_credit AS p JOIN revenue AS r ON r.opportunity_id = p.opportunity_id
  WHERE p.is_closed AND NOT (r.n = 1 AND r.percentage = 100 AND r.owner_rep_id = p.current_rep_id)
), credit AS (
  SELECT opportunity_id, source, rep_id, CAST(1 AS DOUBLE) AS share, rule, credited_on, TRUE AS in_totals
  FROM primary_credit AS p
  WHERE NOT EXISTS (SELECT 1 FROM split_credit AS s WHERE s.opportunity_id = p.opportunity_id)
  UNION ALL
  SELECT opportunity_id, source, rep_id, share, rule, credited_on, in_totals FROM split_credit
  UNION ALL
  SELECT p.opportunity_id, p.source, s.owner_rep_id, CAST(s.percentage AS DOUBLE) / 100, 'overlay:' || s.split_type,
    p.credited_on, FALSE
  FROM primary_credit AS p JOIN spm.opportunity_splits AS s ON s.opportunity_id = p.opportunity_id
  WHERE p.is_closed AND s.split_type IN {_in_list(overlay_types)} AND s.percentage > 0
), summed AS (
  SELECT opportunity_id, source, rep_id, sum(share) AS share, rule, credited_on, in_totals
  FROM credit GROUP BY opportunity_id, source, rep_id, rule, credited_on, in_totals
), teamed AS (
  SELECT c.*, m.team_id, ROW_NUMBER() OVER (
    PARTITION BY c.opportunity_id, c.rep_id, c.rule ORDER BY m.valid_from DESC NULLS LAST, m.team_id) AS rn
  FROM summed AS c LEFT JOIN spm.credit_membership AS m ON m.rep_id = c.rep_id AND {valid_on("c.credited_on", "m")}
)
SELECT opportunity_id, source, rep_id, team_id, share, credited_on, rule, in_totals FROM teamed WHERE rn = 1"""


def statements(cfg: Config, as_of: date) -> tuple[str, ...]:
    """Rebuild the membership and the credits from spm.* (run inside the caller's transaction)."""
    rule = cfg.crediting.owner
    return (
        "DELETE FROM spm.credit_membership",
        membership(rule),
        "DELETE FROM spm.opportunity_credits",
        credits(rule, cfg.crediting.split_types, cfg.crediting.overlay_split_types, as_of),
    )


def apply(cfg: Config, store: Store, as_of: date) -> None:
    """Rebuild the credits on their own (normalize does it inside its swap)."""
    with store.transaction():
        for statement in statements(cfg, as_of):
            store.execute(statement)
