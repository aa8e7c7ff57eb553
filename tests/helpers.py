"""What the tests share besides fixtures: run the real `callbill` CLI, land the small fixture, query,
a warehouse and Dagster home under a folder while a session template is built."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from click.testing import CliRunner, Result

from callbill.cli import main
from callbill.warehouse import environment_variables

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ACCOUNT_HEADER = (FIXTURES / "landing_small" / "accounts" / "a.csv").read_text().splitlines()[0]
CDR_HEADER = "call_id,account_id,direction,source_number,destination_number,start_time_utc,end_time_utc,duration_sec"


def run(*args: str) -> Result:
    """`callbill ARGS` in process; it must succeed."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result


def land_small_with(tmp_path: Path, extra: dict[str, str] | None = None) -> Result:
    """Land the small fixture (copied once to tmp_path/landing) plus extra files {"entity/name.csv": text}."""
    folder = tmp_path / "landing"
    if not folder.exists():
        shutil.copytree(FIXTURES / "landing_small", folder)
    for name, text in (extra or {}).items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text.rstrip("\n") + "\n")
    return run("land", str(folder))


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@contextmanager
def warehouse_at(root: Path) -> Iterator[None]:
    """CALLBILL_WAREHOUSE and DAGSTER_HOME under root while a session template is built."""
    (root / "dagster_home").mkdir()
    with environment_variables(
        {"CALLBILL_WAREHOUSE": str(root / "warehouse" / "callbill.duckdb"), "DAGSTER_HOME": str(root / "dagster_home")}
    ):
        yield
