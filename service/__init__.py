"""User-facing layer: command-line interface (and, later, the HTTP API and web UI)."""
