"""The Thai web UI: server-rendered pages that call the /v1 API from small vanilla scripts."""
