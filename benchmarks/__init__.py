"""Benchmarks: fastapi-hot-reload, arel and the tutorial recipe; `python -m benchmarks`."""
