CREATE TEMP TABLE kpi_entities AS
SELECT 'rep' AS entity_type, rep_id AS entity_id, team_id AS rank_group FROM spm.reps
UNION ALL
SELECT DISTINCT 'team', team_id, CAST(NULL AS TEXT) FROM kpi_team_tree
UNION ALL
SELECT 'company', 'company', CAST(NULL AS TEXT)
