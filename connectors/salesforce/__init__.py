"""Salesforce connector: read side (`source.salesforce_source`) and write side (`writer`)."""
