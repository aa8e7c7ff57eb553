"""Property-based tests of the rating arithmetic (R-RATE-2, R-RATE-3): the SQL the models run
(macros/rating.sql, rendered with Jinja like dbt does) evaluated by DuckDB on generated calls."""

import duckdb
import jinja2
import pytest
from helpers import REPO_ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

MACROS = REPO_ROOT / "macros"
durations = st.integers(min_value=-10, max_value=24 * 3600)
# Deck increments: 60/60, 30/6 (Brazil mobile), 1/1, and anything else a deck may hold.
periods = st.tuples(st.integers(min_value=1, max_value=120), st.integers(min_value=1, max_value=120))


def billable_seconds_sql(duration: str, initial: str, increment: str) -> str:
    """The macro rendered as dbt renders it on DuckDB (dbt's return() and adapter.dispatch())."""
    source = (MACROS / "portable.sql").read_text() + (MACROS / "rating.sql").read_text()
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    macros = environment.from_string(source).module

    class Adapter:
        @staticmethod
        def dispatch(name, package):
            return getattr(macros, f"default__{name}")

    environment.globals.update(adapter=Adapter(), **{"return": lambda value: value})
    call = f"{{{{ billable_seconds('{duration}', '{initial}', '{increment}') }}}}"
    return environment.from_string(source + call).render().strip()


@pytest.fixture(scope="module")
def billable_seconds():
    sql = f"select {billable_seconds_sql('duration', 'initial', 'increment')} from (select $duration as duration, " + (
        "$initial as initial, $increment as increment)"
    )
    con = duckdb.connect()

    def run(duration: int, initial: int, increment: int) -> int:
        return con.execute(sql, {"duration": duration, "initial": initial, "increment": increment}).fetchone()[0]

    yield run
    con.close()


@settings(max_examples=400, deadline=None)
@given(duration=durations, period=periods)
def test_billed_time_covers_the_call_by_less_than_one_increment(billable_seconds, duration, period):
    initial, increment = period
    billed = billable_seconds(duration, initial, increment)
    if duration <= 0:
        assert billed == 0  # a call that did not connect costs nothing
    elif duration <= initial:
        assert billed == initial  # the minimum
    else:
        assert billed >= duration
        assert billed - duration < increment
        assert (billed - initial) % increment == 0


@settings(max_examples=300, deadline=None)
@given(a=durations, b=durations, period=periods)
def test_billed_time_never_falls_as_a_call_gets_longer(billable_seconds, a, b, period):
    shorter, longer = sorted((a, b))
    assert billable_seconds(shorter, *period) <= billable_seconds(longer, *period)


def test_the_guides_examples():
    calls = "(values (61, 60, 60), (31, 30, 6), (37, 30, 6), (0, 60, 60)) t(d, i, n)"
    sql = f"select {billable_seconds_sql('d', 'i', 'n')} from {calls}"
    assert [r[0] for r in duckdb.sql(sql).fetchall()] == [120, 36, 42, 0]
