INSERT INTO kpi_owner_months (owner_id, team_id, in_totals, month, "revenue_won", "deals_won", "deals_lost", "revenue_lost", "closed_amount", "sales_cycle_days__n", "sales_cycle_days__d", "open_pipeline", "arr_new", "revenue_won_new_customers", "revenue_won_with_account")
WITH m_opportunities AS (
  SELECT c.rep_id AS owner_id, c.team_id AS team_id, CAST(c.share AS DOUBLE) AS credit_share, c.in_totals AS in_totals, o.account_id AS "account_id", coalesce(o.is_won, FALSE) AS "is_won", coalesce(o.is_closed, FALSE) OR coalesce(o.is_won, FALSE) AS "is_closed", o.amount_rc AS "amount_rc", o.recurring_amount_rc AS "recurring_amount_rc", o.created_at AS "created_at", o.close_date AS "close_date", coalesce(o.is_won, FALSE) AND o.account_id IS NOT NULL AND o.close_date = min(CASE WHEN o.is_won THEN o.close_date END) OVER (PARTITION BY o.account_id) AS "is_new_customer"
  FROM spm.opportunity_credits AS c JOIN spm.opportunities AS o ON o.opportunity_id = c.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE)
)
SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    sum("revenue_won") AS "revenue_won",
    sum("deals_won") AS "deals_won",
    sum("deals_lost") AS "deals_lost",
    sum("revenue_lost") AS "revenue_lost",
    sum("closed_amount") AS "closed_amount",
    sum("sales_cycle_days__n") AS "sales_cycle_days__n",
    sum("sales_cycle_days__d") AS "sales_cycle_days__d",
    sum("open_pipeline") AS "open_pipeline",
    sum("arr_new") AS "arr_new",
    sum("revenue_won_new_customers") AS "revenue_won_new_customers",
    sum("revenue_won_with_account") AS "revenue_won_with_account"
  FROM (SELECT owner_id, team_id, in_totals, CAST("close_date" AS DATE) AS day, sum(CASE WHEN is_won THEN credit_share * (amount_rc) END) AS "revenue_won", sum(CASE WHEN is_won THEN credit_share ELSE 0 END) AS "deals_won", sum(CASE WHEN is_closed AND NOT is_won THEN credit_share ELSE 0 END) AS "deals_lost", sum(CASE WHEN is_closed AND NOT is_won THEN credit_share * (amount_rc) END) AS "revenue_lost", sum(CASE WHEN is_closed THEN credit_share * (amount_rc) END) AS "closed_amount", sum(CASE WHEN is_won THEN credit_share * (close_date - CAST(created_at AS DATE)) END) AS "sales_cycle_days__n", sum(CASE WHEN is_won AND NOT (close_date - CAST(created_at AS DATE)) IS NULL THEN credit_share ELSE 0 END) AS "sales_cycle_days__d", sum(CASE WHEN NOT is_closed THEN credit_share * (amount_rc) END) AS "open_pipeline", sum(CASE WHEN is_won THEN credit_share * (recurring_amount_rc) END) AS "arr_new", sum(CASE WHEN is_new_customer THEN credit_share * (amount_rc) END) AS "revenue_won_new_customers", sum(CASE WHEN is_won AND NOT account_id IS NULL THEN credit_share * (amount_rc) END) AS "revenue_won_with_account"
  FROM m_opportunities WHERE "close_date" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("close_date" AS DATE)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
