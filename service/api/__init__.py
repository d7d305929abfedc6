"""HTTP API under /v1: one router per capability."""
