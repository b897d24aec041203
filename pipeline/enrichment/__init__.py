"""Enrichment: an internal event's ``detail`` → the public payload (look-ups, RFC 6902 JSON Patch, pruning),
compiled once from the message's typed ``x-enrichment``."""
