"""The specialist domain: the review queue, claims with leases, decisions."""
