CREATE TEMP TABLE kpi_team_tree AS
WITH RECURSIVE team_nodes AS (
  SELECT team_id, parent_team_id FROM spm.teams WHERE team_id IS NOT NULL
  UNION ALL
  SELECT DISTINCT team_id, CAST(NULL AS TEXT) FROM (
    SELECT team_id FROM spm.reps UNION SELECT team_id FROM spm.credit_membership
  ) AS used
  WHERE team_id IS NOT NULL AND team_id NOT IN (SELECT team_id FROM spm.teams WHERE team_id IS NOT NULL)
),
team_paths AS (
  SELECT team_id, team_id AS ancestor_id, 0 AS distance FROM team_nodes
  UNION ALL
  SELECT p.team_id, n.parent_team_id, p.distance + 1
  FROM team_paths AS p JOIN team_nodes AS n ON n.team_id = p.ancestor_id
  WHERE n.parent_team_id IS NOT NULL AND p.distance < 32
)
SELECT team_id, ancestor_id, min(distance) AS distance FROM team_paths GROUP BY team_id, ancestor_id
