"""Indexes over embedded texts: catalog alignment, project search and duplicate detection."""
