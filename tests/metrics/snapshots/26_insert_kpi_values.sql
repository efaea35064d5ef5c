INSERT INTO spm.kpi_values (entity_type, entity_id, period, metric, value, numerator, denominator, computed_at, run_id, dimension, dimension_value)
SELECT u.entity_type, u.entity_id, u.period, u.metric, u.value, u.numerator, u.denominator,
  CAST(? AS TIMESTAMP), CAST(? AS TEXT), u.dimension, u.dimension_value
FROM (
  SELECT entity_type, entity_id, period, 'revenue_won' AS metric, "revenue_won" AS value, "revenue_won" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'quota' AS metric, "quota" AS value, "quota" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'quota_attainment' AS metric, "quota_attainment" AS value, "quota_attainment__n" AS numerator, "quota_attainment__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'deals_won' AS metric, "deals_won" AS value, "deals_won" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'deals_lost' AS metric, "deals_lost" AS value, "deals_lost" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'revenue_lost' AS metric, "revenue_lost" AS value, "revenue_lost" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'win_rate' AS metric, "win_rate" AS value, "win_rate__n" AS numerator, "win_rate__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'win_rate_value' AS metric, "win_rate_value" AS value, "win_rate_value__n" AS numerator, "win_rate_value__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'avg_deal_size' AS metric, "avg_deal_size" AS value, "avg_deal_size__n" AS numerator, "avg_deal_size__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'sales_cycle_days' AS metric, "sales_cycle_days" AS value, "sales_cycle_days__n" AS numerator, "sales_cycle_days__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'open_pipeline' AS metric, "open_pipeline" AS value, "open_pipeline" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'pipeline_coverage' AS metric, "pipeline_coverage" AS value, "pipeline_coverage__n" AS numerator, "pipeline_coverage__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'arr_new' AS metric, "arr_new" AS value, "arr_new" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'arr' AS metric, "arr" AS value, "arr" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'active_customers' AS metric, "active_customers" AS value, "active_customers" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'arpa' AS metric, "arpa" AS value, "arpa__n" AS numerator, "arpa__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'new_customer_revenue_share' AS metric, "new_customer_revenue_share" AS value, "new_customer_revenue_share__n" AS numerator, "new_customer_revenue_share__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'leads_generated' AS metric, "leads_generated" AS value, "leads_generated" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'leads_converted' AS metric, "leads_converted" AS value, "leads_converted" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'lead_conversion_rate' AS metric, "lead_conversion_rate" AS value, "lead_conversion_rate__n" AS numerator, "lead_conversion_rate__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'proposals_sent' AS metric, "proposals_sent" AS value, "proposals_sent" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'calls' AS metric, "calls" AS value, "calls" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'emails' AS metric, "emails" AS value, "emails" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'meetings' AS metric, "meetings" AS value, "meetings" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'calls_vs_target' AS metric, "calls_vs_target" AS value, "calls_vs_target__n" AS numerator, "calls_vs_target__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'emails_vs_target' AS metric, "emails_vs_target" AS value, "emails_vs_target__n" AS numerator, "emails_vs_target__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'meetings_vs_target' AS metric, "meetings_vs_target" AS value, "meetings_vs_target__n" AS numerator, "meetings_vs_target__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'nps' AS metric, "nps" AS value, "nps__n" AS numerator, "nps__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'csat' AS metric, "csat" AS value, "csat__n" AS numerator, "csat__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'feedback_count' AS metric, "feedback_count" AS value, "feedback_count" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'enps' AS metric, "enps" AS value, "enps__n" AS numerator, "enps__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'rep_feedback_count' AS metric, "rep_feedback_count" AS value, "rep_feedback_count" AS numerator, CAST(NULL AS DOUBLE) AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'pipeline_past_due_share' AS metric, "pipeline_past_due_share" AS value, "pipeline_past_due_share__n" AS numerator, "pipeline_past_due_share__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'pipeline_missing_amount_share' AS metric, "pipeline_missing_amount_share" AS value, "pipeline_missing_amount_share__n" AS numerator, "pipeline_missing_amount_share__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'pipeline_stale_share' AS metric, "pipeline_stale_share" AS value, "pipeline_stale_share__n" AS numerator, "pipeline_stale_share__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'activities_per_win' AS metric, "activities_per_win" AS value, "activities_per_win__n" AS numerator, "activities_per_win__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'avg_days_to_first_activity' AS metric, "avg_days_to_first_activity" AS value, "avg_days_to_first_activity__n" AS numerator, "avg_days_to_first_activity__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_skip_share' AS metric, "stage_skip_share" AS value, "stage_skip_share__n" AS numerator, "stage_skip_share__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_conversion_prospecting' AS metric, "stage_conversion_prospecting" AS value, "stage_conversion_prospecting__n" AS numerator, "stage_conversion_prospecting__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_days_prospecting' AS metric, "stage_days_prospecting" AS value, "stage_days_prospecting__n" AS numerator, "stage_days_prospecting__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_conversion_qualification' AS metric, "stage_conversion_qualification" AS value, "stage_conversion_qualification__n" AS numerator, "stage_conversion_qualification__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_days_qualification' AS metric, "stage_days_qualification" AS value, "stage_days_qualification__n" AS numerator, "stage_days_qualification__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_conversion_needs_analysis' AS metric, "stage_conversion_needs_analysis" AS value, "stage_conversion_needs_analysis__n" AS numerator, "stage_conversion_needs_analysis__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_days_needs_analysis' AS metric, "stage_days_needs_analysis" AS value, "stage_days_needs_analysis__n" AS numerator, "stage_days_needs_analysis__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_conversion_proposal' AS metric, "stage_conversion_proposal" AS value, "stage_conversion_proposal__n" AS numerator, "stage_conversion_proposal__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_days_proposal' AS metric, "stage_days_proposal" AS value, "stage_days_proposal__n" AS numerator, "stage_days_proposal__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_conversion_negotiation' AS metric, "stage_conversion_negotiation" AS value, "stage_conversion_negotiation__n" AS numerator, "stage_conversion_negotiation__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'stage_days_negotiation' AS metric, "stage_days_negotiation" AS value, "stage_days_negotiation__n" AS numerator, "stage_days_negotiation__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide
  UNION ALL
  SELECT entity_type, entity_id, period, 'attainment_rank_in_team' AS metric, "attainment_rank_in_team" AS value, CAST(NULL AS DOUBLE) AS numerator, "attainment_rank_in_team__d" AS denominator, CAST(NULL AS TEXT) AS dimension, CAST(NULL AS TEXT) AS dimension_value FROM kpi_wide WHERE entity_type = 'rep'
  UNION ALL
  SELECT entity_type, entity_id, period, metric, value, numerator, denominator, dimension, dimension_value FROM kpi_breakdowns
) AS u
