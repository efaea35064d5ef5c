"""Operational concerns: locks, run history, alerts, status, check, backfill."""
