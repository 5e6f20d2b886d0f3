"""Domain events for other systems: a transactional outbox delivered to webhooks."""
