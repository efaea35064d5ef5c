CREATE TEMP TABLE kpi_membership AS
SELECT rep_id AS owner_id, 'rep' AS entity_type, rep_id AS entity_id FROM spm.reps
UNION ALL
SELECT r.rep_id, 'team', t.ancestor_id FROM spm.reps AS r JOIN kpi_team_tree AS t ON t.team_id = r.team_id
