"""Integrations with orchestrators the user already runs (install their extra, e.g. `spm-sync[dagster]`)."""
