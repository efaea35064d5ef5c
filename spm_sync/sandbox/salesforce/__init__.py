"""Salesforce emulator: an in-memory org over HTTPS that the real simple-salesforce talks to.

Why: connectors are tested against the vendor SDK over real HTTP, with Salesforce's wire formats
and traps (locator paging, queryAll vs query, 200-record collections, Bulk 2.0 CSV, API limits).
"""

from spm_sync.sandbox.salesforce.org import Org
from spm_sync.sandbox.salesforce.sandbox import SalesforceSandbox

__all__ = ["Org", "SalesforceSandbox"]
