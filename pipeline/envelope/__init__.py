"""The CloudEvent envelope: ULID ids, RFC 3339 times, the canonical JSON form and the idempotency key."""
