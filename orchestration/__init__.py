"""callbill's Dagster definitions (definitions.py, defs/) and nothing else: the product's own Python
is the `callbill` package."""
