"""callbill: month-end billing warehouse for business phone providers.

cli (the `callbill` command), warehouse (the DuckDB file), landing (the contract, the checks and the
loader), generate (realistic landing folders), outputs (exports, statements, call detail, the
readers' snapshot), quality (the Great Expectations suites), dashboards (Streamlit), spark (the
Spark engine). The Dagster definitions that run the close are the `orchestration` package.
"""
