"""HubSpot emulator: an in-memory portal seeded from the canonical data set, served over loopback
HTTP with HubSpot's wire formats, limits and error bodies (see `app.HubSpotSandbox`)."""

from spm_sync.sandbox.hubspot.app import HubSpotSandbox
from spm_sync.sandbox.hubspot.portal import Portal

__all__ = ["HubSpotSandbox", "Portal"]
