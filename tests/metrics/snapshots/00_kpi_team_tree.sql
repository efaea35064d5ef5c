CREATE TEMP TABLE kpi_team_tree AS
WITH RECURSIVE nodes AS (
  SELECT team_id, parent_team_id FROM spm.teams WHERE team_id IS NOT NULL
  UNION ALL
  SELECT DISTINCT team_id, CAST(NULL AS TEXT) FROM (
    SELECT team_id FROM spm.reps UNION SELECT team_id FROM spm.credit_membership
  ) AS used
  WHERE team_id IS NOT NULL AND team_id NOT IN (SELECT team_id FROM spm.teams WHERE team_id IS NOT NULL)
), tree AS (
  SELECT team_id, team_id AS ancestor_id, 0 AS distance FROM nodes
  UNION ALL
  SELECT tree.team_id, nodes.parent_team_id, tree.distance + 1
  FROM tree JOIN nodes ON nodes.team_id = tree.ancestor_id
  WHERE nodes.parent_team_id IS NOT NULL AND tree.distance < 32
)
SELECT team_id, ancestor_id, min(distance) AS distance FROM tree GROUP BY team_id, ancestor_id
