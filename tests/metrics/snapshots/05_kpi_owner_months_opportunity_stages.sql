INSERT INTO kpi_owner_months (owner_id, team_id, in_totals, month, "proposals_sent", "stage_entered__proposal", "stage_moved_on__proposal", "stage_days_proposal__n", "stage_days_proposal__d", "won_with_stages", "won_skipping_stage", "stage_entered__prospecting", "stage_moved_on__prospecting", "stage_days_prospecting__n", "stage_days_prospecting__d", "stage_entered__qualification", "stage_moved_on__qualification", "stage_days_qualification__n", "stage_days_qualification__d", "stage_entered__needs_analysis", "stage_moved_on__needs_analysis", "stage_days_needs_analysis__n", "stage_days_needs_analysis__d", "stage_entered__negotiation", "stage_moved_on__negotiation", "stage_days_negotiation__n", "stage_days_negotiation__d")
WITH m_opportunity_stages AS MATERIALIZED (
  SELECT o.owner_rep_id AS owner_id, CAST(NULL AS TEXT) AS team_id, CAST(1 AS DOUBLE) AS credit_share, TRUE AS in_totals, s.first_prospecting AS "first_prospecting", s.first_qualification AS "first_qualification", s.first_needs_analysis AS "first_needs_analysis", s.first_proposal AS "first_proposal", s.first_negotiation AS "first_negotiation", s.first_closed_won AS "first_closed_won", s.first_closed_lost AS "first_closed_lost", (s.first_qualification IS NULL AND s.first_prospecting IS NOT NULL) OR (s.first_needs_analysis IS NULL AND coalesce(s.first_prospecting, s.first_qualification) IS NOT NULL) OR (s.first_proposal IS NULL
    AND coalesce(s.first_prospecting, s.first_qualification, s.first_needs_analysis) IS NOT NULL)
OR (s.first_negotiation IS NULL
    AND coalesce(s.first_prospecting, s.first_qualification, s.first_needs_analysis, s.first_proposal)
      IS NOT NULL)
OR coalesce(s.first_prospecting, s.first_qualification, s.first_needs_analysis, s.first_proposal,
            s.first_negotiation) IS NULL AS "skipped_stage"
  FROM (SELECT opportunity_id,
  min(CASE WHEN stage_category = 'prospecting' THEN entered_at END) AS first_prospecting,
  min(CASE WHEN stage_category = 'qualification' THEN entered_at END) AS first_qualification,
  min(CASE WHEN stage_category = 'needs_analysis' THEN entered_at END) AS first_needs_analysis,
  min(CASE WHEN stage_category = 'proposal' THEN entered_at END) AS first_proposal,
  min(CASE WHEN stage_category = 'negotiation' THEN entered_at END) AS first_negotiation,
  min(CASE WHEN stage_category = 'closed_won' THEN entered_at END) AS first_closed_won,
  min(CASE WHEN stage_category = 'closed_lost' THEN entered_at END) AS first_closed_lost
FROM spm.stage_events GROUP BY opportunity_id) AS s JOIN spm.opportunities AS o ON o.opportunity_id = s.opportunity_id WHERE NOT coalesce(o.is_deleted, FALSE) AND o.mirror_of IS NULL
)
SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    sum("proposals_sent") AS "proposals_sent",
    sum("stage_entered__proposal") AS "stage_entered__proposal",
    sum("stage_moved_on__proposal") AS "stage_moved_on__proposal",
    sum("stage_days_proposal__n") AS "stage_days_proposal__n",
    sum("stage_days_proposal__d") AS "stage_days_proposal__d",
    CAST(NULL AS DOUBLE) AS "won_with_stages",
    CAST(NULL AS DOUBLE) AS "won_skipping_stage",
    CAST(NULL AS DOUBLE) AS "stage_entered__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__n",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__qualification",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__qualification",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__n",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__n",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__n",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__d"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."proposals_sent", d."stage_entered__proposal", d."stage_moved_on__proposal", d."stage_days_proposal__n", d."stage_days_proposal__d"
  FROM (SELECT owner_id, team_id, in_totals, CAST("first_proposal" AS DATE) AS day, sum(credit_share) AS "proposals_sent", sum(credit_share) AS "stage_entered__proposal", sum(CASE WHEN GREATEST(first_negotiation, first_closed_won) > first_proposal THEN credit_share ELSE 0 END) AS "stage_moved_on__proposal", sum(credit_share * ((EPOCH(LEAST(CASE WHEN first_prospecting > first_proposal THEN first_prospecting END, CASE WHEN first_qualification > first_proposal THEN first_qualification END, CASE WHEN first_needs_analysis > first_proposal THEN first_needs_analysis END, CASE WHEN first_negotiation > first_proposal THEN first_negotiation END, CASE WHEN first_closed_won > first_proposal THEN first_closed_won END, CASE WHEN first_closed_lost > first_proposal THEN first_closed_lost END)) - EPOCH(first_proposal)) / 86400.0)) AS "stage_days_proposal__n", sum(CASE WHEN NOT ((EPOCH(LEAST(CASE WHEN first_prospecting > first_proposal THEN first_prospecting END, CASE WHEN first_qualification > first_proposal THEN first_qualification END, CASE WHEN first_needs_analysis > first_proposal THEN first_needs_analysis END, CASE WHEN first_negotiation > first_proposal THEN first_negotiation END, CASE WHEN first_closed_won > first_proposal THEN first_closed_won END, CASE WHEN first_closed_lost > first_proposal THEN first_closed_lost END)) - EPOCH(first_proposal)) / 86400.0) IS NULL THEN credit_share ELSE 0 END) AS "stage_days_proposal__d"
  FROM m_opportunity_stages WHERE "first_proposal" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("first_proposal" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "proposals_sent",
    CAST(NULL AS DOUBLE) AS "stage_entered__proposal",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__proposal",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__n",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__d",
    sum("won_with_stages") AS "won_with_stages",
    sum("won_skipping_stage") AS "won_skipping_stage",
    CAST(NULL AS DOUBLE) AS "stage_entered__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__n",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__qualification",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__qualification",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__n",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__n",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__n",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__d"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."won_with_stages", d."won_skipping_stage"
  FROM (SELECT owner_id, team_id, in_totals, CAST("first_closed_won" AS DATE) AS day, sum(credit_share) AS "won_with_stages", sum(CASE WHEN skipped_stage THEN credit_share ELSE 0 END) AS "won_skipping_stage"
  FROM m_opportunity_stages WHERE "first_closed_won" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("first_closed_won" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "proposals_sent",
    CAST(NULL AS DOUBLE) AS "stage_entered__proposal",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__proposal",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__n",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__d",
    CAST(NULL AS DOUBLE) AS "won_with_stages",
    CAST(NULL AS DOUBLE) AS "won_skipping_stage",
    sum("stage_entered__prospecting") AS "stage_entered__prospecting",
    sum("stage_moved_on__prospecting") AS "stage_moved_on__prospecting",
    sum("stage_days_prospecting__n") AS "stage_days_prospecting__n",
    sum("stage_days_prospecting__d") AS "stage_days_prospecting__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__qualification",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__qualification",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__n",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__n",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__n",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__d"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."stage_entered__prospecting", d."stage_moved_on__prospecting", d."stage_days_prospecting__n", d."stage_days_prospecting__d"
  FROM (SELECT owner_id, team_id, in_totals, CAST("first_prospecting" AS DATE) AS day, sum(credit_share) AS "stage_entered__prospecting", sum(CASE WHEN GREATEST(first_qualification, first_needs_analysis, first_proposal, first_negotiation, first_closed_won) > first_prospecting THEN credit_share ELSE 0 END) AS "stage_moved_on__prospecting", sum(credit_share * ((EPOCH(LEAST(CASE WHEN first_qualification > first_prospecting THEN first_qualification END, CASE WHEN first_needs_analysis > first_prospecting THEN first_needs_analysis END, CASE WHEN first_proposal > first_prospecting THEN first_proposal END, CASE WHEN first_negotiation > first_prospecting THEN first_negotiation END, CASE WHEN first_closed_won > first_prospecting THEN first_closed_won END, CASE WHEN first_closed_lost > first_prospecting THEN first_closed_lost END)) - EPOCH(first_prospecting)) / 86400.0)) AS "stage_days_prospecting__n", sum(CASE WHEN NOT ((EPOCH(LEAST(CASE WHEN first_qualification > first_prospecting THEN first_qualification END, CASE WHEN first_needs_analysis > first_prospecting THEN first_needs_analysis END, CASE WHEN first_proposal > first_prospecting THEN first_proposal END, CASE WHEN first_negotiation > first_prospecting THEN first_negotiation END, CASE WHEN first_closed_won > first_prospecting THEN first_closed_won END, CASE WHEN first_closed_lost > first_prospecting THEN first_closed_lost END)) - EPOCH(first_prospecting)) / 86400.0) IS NULL THEN credit_share ELSE 0 END) AS "stage_days_prospecting__d"
  FROM m_opportunity_stages WHERE "first_prospecting" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("first_prospecting" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "proposals_sent",
    CAST(NULL AS DOUBLE) AS "stage_entered__proposal",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__proposal",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__n",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__d",
    CAST(NULL AS DOUBLE) AS "won_with_stages",
    CAST(NULL AS DOUBLE) AS "won_skipping_stage",
    CAST(NULL AS DOUBLE) AS "stage_entered__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__n",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__d",
    sum("stage_entered__qualification") AS "stage_entered__qualification",
    sum("stage_moved_on__qualification") AS "stage_moved_on__qualification",
    sum("stage_days_qualification__n") AS "stage_days_qualification__n",
    sum("stage_days_qualification__d") AS "stage_days_qualification__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__n",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__n",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__d"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."stage_entered__qualification", d."stage_moved_on__qualification", d."stage_days_qualification__n", d."stage_days_qualification__d"
  FROM (SELECT owner_id, team_id, in_totals, CAST("first_qualification" AS DATE) AS day, sum(credit_share) AS "stage_entered__qualification", sum(CASE WHEN GREATEST(first_needs_analysis, first_proposal, first_negotiation, first_closed_won) > first_qualification THEN credit_share ELSE 0 END) AS "stage_moved_on__qualification", sum(credit_share * ((EPOCH(LEAST(CASE WHEN first_prospecting > first_qualification THEN first_prospecting END, CASE WHEN first_needs_analysis > first_qualification THEN first_needs_analysis END, CASE WHEN first_proposal > first_qualification THEN first_proposal END, CASE WHEN first_negotiation > first_qualification THEN first_negotiation END, CASE WHEN first_closed_won > first_qualification THEN first_closed_won END, CASE WHEN first_closed_lost > first_qualification THEN first_closed_lost END)) - EPOCH(first_qualification)) / 86400.0)) AS "stage_days_qualification__n", sum(CASE WHEN NOT ((EPOCH(LEAST(CASE WHEN first_prospecting > first_qualification THEN first_prospecting END, CASE WHEN first_needs_analysis > first_qualification THEN first_needs_analysis END, CASE WHEN first_proposal > first_qualification THEN first_proposal END, CASE WHEN first_negotiation > first_qualification THEN first_negotiation END, CASE WHEN first_closed_won > first_qualification THEN first_closed_won END, CASE WHEN first_closed_lost > first_qualification THEN first_closed_lost END)) - EPOCH(first_qualification)) / 86400.0) IS NULL THEN credit_share ELSE 0 END) AS "stage_days_qualification__d"
  FROM m_opportunity_stages WHERE "first_qualification" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("first_qualification" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "proposals_sent",
    CAST(NULL AS DOUBLE) AS "stage_entered__proposal",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__proposal",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__n",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__d",
    CAST(NULL AS DOUBLE) AS "won_with_stages",
    CAST(NULL AS DOUBLE) AS "won_skipping_stage",
    CAST(NULL AS DOUBLE) AS "stage_entered__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__n",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__qualification",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__qualification",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__n",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__d",
    sum("stage_entered__needs_analysis") AS "stage_entered__needs_analysis",
    sum("stage_moved_on__needs_analysis") AS "stage_moved_on__needs_analysis",
    sum("stage_days_needs_analysis__n") AS "stage_days_needs_analysis__n",
    sum("stage_days_needs_analysis__d") AS "stage_days_needs_analysis__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__negotiation",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__n",
    CAST(NULL AS DOUBLE) AS "stage_days_negotiation__d"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."stage_entered__needs_analysis", d."stage_moved_on__needs_analysis", d."stage_days_needs_analysis__n", d."stage_days_needs_analysis__d"
  FROM (SELECT owner_id, team_id, in_totals, CAST("first_needs_analysis" AS DATE) AS day, sum(credit_share) AS "stage_entered__needs_analysis", sum(CASE WHEN GREATEST(first_proposal, first_negotiation, first_closed_won) > first_needs_analysis THEN credit_share ELSE 0 END) AS "stage_moved_on__needs_analysis", sum(credit_share * ((EPOCH(LEAST(CASE WHEN first_prospecting > first_needs_analysis THEN first_prospecting END, CASE WHEN first_qualification > first_needs_analysis THEN first_qualification END, CASE WHEN first_proposal > first_needs_analysis THEN first_proposal END, CASE WHEN first_negotiation > first_needs_analysis THEN first_negotiation END, CASE WHEN first_closed_won > first_needs_analysis THEN first_closed_won END, CASE WHEN first_closed_lost > first_needs_analysis THEN first_closed_lost END)) - EPOCH(first_needs_analysis)) / 86400.0)) AS "stage_days_needs_analysis__n", sum(CASE WHEN NOT ((EPOCH(LEAST(CASE WHEN first_prospecting > first_needs_analysis THEN first_prospecting END, CASE WHEN first_qualification > first_needs_analysis THEN first_qualification END, CASE WHEN first_proposal > first_needs_analysis THEN first_proposal END, CASE WHEN first_negotiation > first_needs_analysis THEN first_negotiation END, CASE WHEN first_closed_won > first_needs_analysis THEN first_closed_won END, CASE WHEN first_closed_lost > first_needs_analysis THEN first_closed_lost END)) - EPOCH(first_needs_analysis)) / 86400.0) IS NULL THEN credit_share ELSE 0 END) AS "stage_days_needs_analysis__d"
  FROM m_opportunity_stages WHERE "first_needs_analysis" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("first_needs_analysis" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
  UNION ALL
  SELECT owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE) AS month,
    CAST(NULL AS DOUBLE) AS "proposals_sent",
    CAST(NULL AS DOUBLE) AS "stage_entered__proposal",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__proposal",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__n",
    CAST(NULL AS DOUBLE) AS "stage_days_proposal__d",
    CAST(NULL AS DOUBLE) AS "won_with_stages",
    CAST(NULL AS DOUBLE) AS "won_skipping_stage",
    CAST(NULL AS DOUBLE) AS "stage_entered__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__prospecting",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__n",
    CAST(NULL AS DOUBLE) AS "stage_days_prospecting__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__qualification",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__qualification",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__n",
    CAST(NULL AS DOUBLE) AS "stage_days_qualification__d",
    CAST(NULL AS DOUBLE) AS "stage_entered__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_moved_on__needs_analysis",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__n",
    CAST(NULL AS DOUBLE) AS "stage_days_needs_analysis__d",
    sum("stage_entered__negotiation") AS "stage_entered__negotiation",
    sum("stage_moved_on__negotiation") AS "stage_moved_on__negotiation",
    sum("stage_days_negotiation__n") AS "stage_days_negotiation__n",
    sum("stage_days_negotiation__d") AS "stage_days_negotiation__d"
  FROM (SELECT d.owner_id, m.team_id, d.in_totals, d.day, d."stage_entered__negotiation", d."stage_moved_on__negotiation", d."stage_days_negotiation__n", d."stage_days_negotiation__d"
  FROM (SELECT owner_id, team_id, in_totals, CAST("first_negotiation" AS DATE) AS day, sum(credit_share) AS "stage_entered__negotiation", sum(CASE WHEN first_closed_won > first_negotiation THEN credit_share ELSE 0 END) AS "stage_moved_on__negotiation", sum(credit_share * ((EPOCH(LEAST(CASE WHEN first_prospecting > first_negotiation THEN first_prospecting END, CASE WHEN first_qualification > first_negotiation THEN first_qualification END, CASE WHEN first_needs_analysis > first_negotiation THEN first_needs_analysis END, CASE WHEN first_proposal > first_negotiation THEN first_proposal END, CASE WHEN first_closed_won > first_negotiation THEN first_closed_won END, CASE WHEN first_closed_lost > first_negotiation THEN first_closed_lost END)) - EPOCH(first_negotiation)) / 86400.0)) AS "stage_days_negotiation__n", sum(CASE WHEN NOT ((EPOCH(LEAST(CASE WHEN first_prospecting > first_negotiation THEN first_prospecting END, CASE WHEN first_qualification > first_negotiation THEN first_qualification END, CASE WHEN first_needs_analysis > first_negotiation THEN first_needs_analysis END, CASE WHEN first_proposal > first_negotiation THEN first_proposal END, CASE WHEN first_closed_won > first_negotiation THEN first_closed_won END, CASE WHEN first_closed_lost > first_negotiation THEN first_closed_lost END)) - EPOCH(first_negotiation)) / 86400.0) IS NULL THEN credit_share ELSE 0 END) AS "stage_days_negotiation__d"
  FROM m_opportunity_stages WHERE "first_negotiation" IS NOT NULL
  GROUP BY owner_id, team_id, in_totals, CAST("first_negotiation" AS DATE)) AS d
  LEFT JOIN spm.credit_membership AS m ON m.rep_id = d.owner_id
    AND (m.valid_from IS NULL OR m.valid_from <= d.day)
    AND (m.valid_to IS NULL OR d.day < m.valid_to)) AS k
  GROUP BY owner_id, team_id, in_totals, CAST(date_trunc('month', day) AS DATE)
