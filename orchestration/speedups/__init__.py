"""Speed-ups that lean on Dagster's and dbt's internals, together so that they can be read, checked
against a new release, or deleted as one (each module says what it saves and why; BENCHMARKS.md has
the figures):

- dagster_events: Dagster's SQLite event log with its connections kept open;
- dbt_in_process: dbt-core run on a thread of the step's process instead of a dbt process, its
  debug events (which nothing there reads) parsed only when read and dropped before dbt makes
  messages of them;
- preload: dbt's heavy imports started on a thread while a CLI close records its run.

Without them the close runs the same job through Dagster's and dagster-dbt's public paths, slower.
"""
