INSERT INTO kpi_owner_months (owner_id, month, "revenue_won", "deals_won", "deals_lost", "closed_amount", "sales_cycle_days__n", "sales_cycle_days__d", "open_pipeline", "arr_new", "revenue_won_new_customers", "revenue_won_with_account")
WITH m_opportunities AS (
  SELECT owner_rep_id AS owner_id, account_id AS "account_id", coalesce(is_won, FALSE) AS "is_won", coalesce(is_closed, FALSE) OR coalesce(is_won, FALSE) AS "is_closed", amount_rc AS "amount_rc", recurring_amount_rc AS "recurring_amount_rc", created_at AS "created_at", close_date AS "close_date", coalesce(is_won, FALSE) AND account_id IS NOT NULL AND close_date = min(CASE WHEN is_won THEN close_date END) OVER (PARTITION BY account_id) AS "is_new_customer"
  FROM spm.opportunities WHERE NOT coalesce(is_deleted, FALSE)
)
SELECT owner_id, CAST(date_trunc('month', "close_date") AS DATE) AS month,
    sum(CASE WHEN is_won THEN (amount_rc) END) AS "revenue_won",
    sum(CASE WHEN is_won THEN 1 ELSE 0 END) AS "deals_won",
    sum(CASE WHEN is_closed AND NOT is_won THEN 1 ELSE 0 END) AS "deals_lost",
    sum(CASE WHEN is_closed THEN (amount_rc) END) AS "closed_amount",
    sum(CASE WHEN is_won THEN (close_date - CAST(created_at AS DATE)) END) AS "sales_cycle_days__n",
    sum(CASE WHEN is_won AND (close_date - CAST(created_at AS DATE)) IS NOT NULL THEN 1 ELSE 0 END) AS "sales_cycle_days__d",
    sum(CASE WHEN NOT is_closed THEN (amount_rc) END) AS "open_pipeline",
    sum(CASE WHEN is_won THEN (recurring_amount_rc) END) AS "arr_new",
    sum(CASE WHEN is_new_customer THEN (amount_rc) END) AS "revenue_won_new_customers",
    sum(CASE WHEN is_won AND account_id IS NOT NULL THEN (amount_rc) END) AS "revenue_won_with_account"
  FROM m_opportunities WHERE "close_date" IS NOT NULL
  GROUP BY owner_id, CAST(date_trunc('month', "close_date") AS DATE)
