"""Source configs pointing at an in-process sandbox: one place, so end-to-end tests stay in step."""

from __future__ import annotations

from typing import Any

from spm_sync.sandbox import Sandbox


def sandbox_sources(sb: Sandbox) -> dict[str, dict[str, Any]]:
    """`sf` and `hs` source entries for `sb`, HubSpot paced far above the sandbox's limits."""
    return {
        "sf": {"name": "sf", "type": "salesforce", "instance_url": sb.salesforce.instance_url,
               "session_id": sb.salesforce.session_id, "ca_bundle": sb.salesforce.ca_bundle},
        "hs": {"name": "hs", "type": "hubspot", "base_url": sb.hubspot.base_url,
               "access_token": sb.hubspot.access_token,
               "rate_limit": {"requests_per_10s": 10_000, "search_per_second": 1_000}},
    }
