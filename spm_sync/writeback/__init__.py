"""Write-back: KPI values into CRM fields, as plan -> diff against the ledger -> batched apply.

`write_back` is the stage function the CLI and scheduler call; `validate_targets` is what
`spm-sync check` reports for the `writeback:` section.
"""

from spm_sync.writeback.result import WritebackResult
from spm_sync.writeback.stage import write_back
from spm_sync.writeback.targets import validate_targets

__all__ = ["WritebackResult", "validate_targets", "write_back"]
