"""Data in and out: strategy catalogs, project records, tables (CSV/XLSX/JSONL) and embedded defaults."""
