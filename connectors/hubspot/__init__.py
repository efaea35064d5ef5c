"""HubSpot connector: `source.hubspot_source` (read side) and `writer.HubSpotWriter` (write-back)."""
