"""Crediting: who each opportunity counts for (owner at close, splits, overlays, team on the date).

Run at the end of normalize (spm_sync/normalize/run.py), so the metrics read ready credits.
"""
