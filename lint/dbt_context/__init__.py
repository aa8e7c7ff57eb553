"""The dbt context sqlfluff's jinja templater renders the models and tests with (.sqlfluff, `make lint`).

sqlfluff's dbt builtins stand in for ref, source, config, this and is_incremental; these are the rest
that callbill's SQL reads: ``adapter.dispatch`` picks the project's own ``duckdb__`` or ``default__``
macro as dbt does on DuckDB, ``target`` is the DuckDB target, ``var`` reads dbt_project.yml,
``run_started_at`` is now, ``flags`` a plain build, and ``execute`` is false as when dbt parses, so no
macro runs a query.
Nothing connects to a warehouse or starts dbt.
"""

import datetime
import os
from pathlib import Path

import jinja2
import yaml

_PROJECT_VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())["vars"]
_NO_DEFAULT = object()


class _Adapter:
    unsafe_callable = False
    alters_data = False
    type = "duckdb"

    @jinja2.pass_context
    def dispatch(self, context, macro_name, macro_namespace=None):
        for prefix in ("duckdb__", "default__"):
            macro = context.resolve_or_missing(prefix + macro_name)
            if macro is not jinja2.utils.missing:
                return macro
        raise jinja2.UndefinedError(f"no duckdb__ or default__ implementation of {macro_name}")


class _Target:
    type = "duckdb"
    name = "duckdb"
    profile_name = "callbill"
    database = "callbill"
    schema = "main"
    threads = 4


def var(name, default=_NO_DEFAULT):
    if name in _PROJECT_VARS:
        return _PROJECT_VARS[name]
    if default is _NO_DEFAULT:
        raise jinja2.UndefinedError(f"Required var '{name}' not found in dbt_project.yml")
    return default


def env_var(name, default=_NO_DEFAULT):
    if name in os.environ:
        return os.environ[name]
    if default is _NO_DEFAULT:
        raise jinja2.UndefinedError(f"Env var required but not provided: '{name}'")
    return default


adapter = _Adapter()
target = _Target()
execute = False
run_started_at = datetime.datetime.now(datetime.UTC)


class _Flags:
    """dbt's run flags the models read: a plain build, not `--empty`."""

    EMPTY = False


flags = _Flags()
