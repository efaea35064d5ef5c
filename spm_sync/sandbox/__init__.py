"""Local emulators of the Salesforce and HubSpot APIs over a seeded, CRM-neutral data set.

Why: tests and demos run the real vendor SDKs over loopback HTTP(S) against these servers.
Production code never imports this package. `Sandbox` is imported lazily so the plumbing
(`server`, `faults`, `tls`) and the generator (`dataset`) stay importable on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spm_sync.sandbox.facade import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from spm_sync.sandbox.facade import Sandbox

        return Sandbox
    raise AttributeError(name)
