"""`Sandbox`: one seeded data set served by a Salesforce and a HubSpot emulator.

Why: tests, the demo and `spm-sync sandbox serve` all need the same thing — both CRMs up on
loopback with known credentials — so it is built in one place:

    with Sandbox(seed=7, scale="small", faults=0.0, split=False, rate_limit=100) as sb:
        sb.salesforce.instance_url, sb.hubspot.base_url
        sb.salesforce.faults.rate = 0.2      # each server has its own FaultConfig
        print(json.dumps(sb.description()))  # DESIGN.md's JSON line

    Sandbox(state_dir=DIR): the TLS CA, both ports and the Salesforce session are kept in DIR
    (`sandbox.json`, `ca.pem`) and reused by the next Sandbox with that DIR, so a config written for
    one run (`demo --keep`) reaches the next one (`sandbox serve --state DIR`).

    Sandbox(mirror=True): Salesforce holds the whole data set (the system of record) and HubSpot the
    copies its native Salesforce integration makes (companies, deals, contacts with the link properties
    salesforceaccountid / hs_salesforceopportunityid / salesforceleadid), so every deal is in both CRMs.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spm_sync.sandbox.dataset import Dataset, generate
from spm_sync.sandbox.faults import FaultConfig

if TYPE_CHECKING:
    from spm_sync.sandbox.hubspot import HubSpotSandbox
    from spm_sync.sandbox.salesforce import SalesforceSandbox

STATE_FILE = "sandbox.json"


def kept_state(state_dir: Path | None) -> dict[str, Any]:
    """What an earlier sandbox left in `state_dir` (ports, session); {} when nothing or unreadable."""
    if state_dir is None:
        return {}
    try:
        state = json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def fault_configs(faults: float | FaultConfig, seed: int) -> tuple[FaultConfig, FaultConfig]:
    """Two independent configs (Salesforce, HubSpot): changing one server's faults leaves the other."""
    base = faults if isinstance(faults, FaultConfig) else FaultConfig(rate=float(faults), seed=seed)
    return replace(base), replace(base, seed=base.seed + 1)


class Sandbox:
    """Both emulators over one data set; construct, then `start()` (or use as a context manager).

    `salesforce_fiscal_start_month`: the org's standard fiscal year start (its FiscalYearSettings and
    Period rows); None leaves both objects empty. `kpi_fields=False`: both CRMs start without the
    write-back KPI fields (what `spm-sync writeback setup` creates).
    """

    def __init__(
        self,
        seed: int = 7,
        scale: str | int = "small",
        faults: float | FaultConfig = 0.0,
        split: bool = False,
        rate_limit: int = 100,
        *,
        as_of: date | None = None,
        search_rate_limit: int = 5,
        daily_api_limit: int = 100_000,
        host: str = "127.0.0.1",
        salesforce_port: int = 0,
        hubspot_port: int = 0,
        dataset: Dataset | None = None,
        salesforce_fiscal_start_month: int | None = 1,
        kpi_fields: bool = True,
        mirror: bool = False,
        state_dir: Path | None = None,
    ) -> None:
        # Imported here so the plumbing and generator import without the emulators.
        from spm_sync.sandbox.hubspot import HubSpotSandbox
        from spm_sync.sandbox.hubspot.shaping import MirrorLinks
        from spm_sync.sandbox.salesforce import SalesforceSandbox

        if mirror and split:
            raise ValueError("mirror and split exclude each other: a mirrored HubSpot copies all of Salesforce")
        self.dataset = dataset if dataset is not None else generate(seed=seed, scale=scale, as_of=as_of)
        salesforce_part, hubspot_part = self.dataset.for_crm(split)
        salesforce_faults, hubspot_faults = fault_configs(faults, seed)
        self.state_dir = state_dir
        kept = kept_state(state_dir)
        self.salesforce: SalesforceSandbox = SalesforceSandbox(
            salesforce_part, faults=salesforce_faults, daily_api_limit=daily_api_limit, host=host,
            port=salesforce_port or int(kept.get("salesforce_port", 0)),
            fiscal_start_month=salesforce_fiscal_start_month, kpi_fields=kpi_fields,
            tls_folder=state_dir, session_id=kept.get("session_id"),
        )
        links = None
        if mirror:
            links = MirrorLinks(self.salesforce.record_ids("Account"), self.salesforce.record_ids("Opportunity"),
                                self.salesforce.record_ids("Lead"))
        self.hubspot: HubSpotSandbox = HubSpotSandbox(
            hubspot_part, faults=hubspot_faults, rate_limit=rate_limit, search_rate_limit=search_rate_limit,
            host=host, port=hubspot_port or int(kept.get("hubspot_port", 0)), kpi_fields=kpi_fields, mirror=links,
        )

    def start(self) -> Sandbox:
        """Start both servers (if the second fails, the first is stopped again)."""
        self.salesforce.start()
        try:
            self.hubspot.start()
        except BaseException:
            self.salesforce.stop()
            raise
        if self.state_dir is not None:
            state = {"salesforce_port": self.salesforce.server.port, "hubspot_port": self.hubspot.server.port,
                     "session_id": self.salesforce.session_id}
            self.state_dir.mkdir(parents=True, exist_ok=True)
            (self.state_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
        return self

    def stop(self) -> None:
        """Stop both servers."""
        try:
            self.hubspot.stop()
        finally:
            self.salesforce.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def description(self) -> dict[str, dict[str, Any]]:
        """The connection JSON of DESIGN.md (`spm-sync sandbox serve` prints it first)."""
        return {
            "salesforce": self.salesforce.description(),
            "hubspot": {"base_url": self.hubspot.base_url, "access_token": self.hubspot.access_token},
        }

    def stats(self) -> dict[str, dict[str, Any]]:
        """Request counts of both servers."""
        return {"salesforce": self.salesforce.stats(), "hubspot": self.hubspot.stats()}
