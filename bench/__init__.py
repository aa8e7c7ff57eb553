"""callbill benchmark: `python -m bench --cdrs 10M` (see BENCHMARKS.md)."""
