"""Evaluation: metrics, datasets from ../shared/data and our own dev set, benchmarks."""
