"""Deal splits: `POST /crm/v3/objects/deals/splits/batch/read` and the dated `/deal-splits/<version>/batch/read`.

From HubSpot's deal splits guide and its May 2024 changelog: the body is `{"inputs": [{"id": <deal id>}]}`
and each result is `{"id": <deal id>, "splits": [{"id", "properties": {"hs_deal_split_percentage",
"hubspot_owner_id"}, "createdAt", "updatedAt", "archived"}]}`, percentages as fraction strings ("0.6")
summing to 1. Not documented, so guessed here: at most 100 inputs per call (the batch limit of the
other CRM batch endpoints), a deal without splits answers with `"splits": []`, and an unknown or
archived deal id is a 207 OBJECT_NOT_FOUND error entry as in the objects batch read.
"""

from __future__ import annotations

from typing import Any

from spm_sync.sandbox.hubspot import errors
from spm_sync.sandbox.hubspot.objects_api import now_iso
from spm_sync.sandbox.hubspot.portal import DealSplit, Portal
from spm_sync.sandbox.hubspot.values import format_datetime
from spm_sync.sandbox.server import Request, Response

SPLITS_BATCH_MAX = 100
SPLITS_SCOPE = "crm.dealsplits.read_write"


def split_wire(split: DealSplit) -> dict[str, Any]:
    """One split as the API sends it: property values are strings."""
    return {
        "id": str(split.id),
        "properties": {"hs_deal_split_percentage": repr(split.share), "hubspot_owner_id": split.owner_id},
        "createdAt": format_datetime(split.created_ms),
        "updatedAt": format_datetime(split.updated_ms),
        "archived": False,
    }


class SplitsApi:
    """The read side of the deal splits API over one portal."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def batch_read(self, request: Request) -> Response:
        if not self.portal.has_scope("deal_splits"):
            raise errors.HttpError(errors.missing_scopes([SPLITS_SCOPE]))
        body = request.json()
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise errors.validation("Invalid input JSON: inputs is required")
        if len(inputs) > SPLITS_BATCH_MAX:
            raise errors.validation(f"Batch input size must be no more than {SPLITS_BATCH_MAX}, got {len(inputs)}",
                                    context={"inputs": [str(len(inputs))]})
        started = now_iso()
        results, missing = [], []
        with self.portal.lock:
            deals = self.portal.table("deals")
            for item in inputs:
                key = str((item or {}).get("id"))
                try:
                    row = deals.row_of(int(key))
                except ValueError:
                    row = None
                if row is None or deals.archived[row]:
                    missing.append(key)
                    continue
                splits = self.portal.deal_splits.get(int(key), [])
                results.append({"id": key, "splits": [split_wire(s) for s in splits]})
        payload: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            payload["numErrors"] = 1
            payload["errors"] = [errors.batch_error(
                "OBJECT_NOT_FOUND", "Could not get some deals objects, they may be deleted or not exist. "
                "Check that ids are valid.", {"ids": missing})]
        payload.update(startedAt=started, completedAt=now_iso())
        return Response.json(payload, status=207 if missing else 200)
