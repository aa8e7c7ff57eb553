"""dbt-core run inside the close's own process (issue #8).

dagster-dbt starts a dbt process for each build and, before it, loads the project and an adapter
in the calling process as well: ~3 s per step before dbt runs a node, twice per close. Here dbt runs
on a thread of the step's process (dbtRunner), reading the partial parse that the previous build
left and leaving its own for the next; dagster-dbt turns its events into the same Dagster outputs
and asset check results as it does for a dbt process's JSON log.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster_dbt.asset_utils import (
    get_manifest_and_translator_from_dbt_assets,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

# What dagster-dbt turns into Dagster events, and what a dbt process logs at its default level.
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
LOGGED_LEVELS = frozenset({"info", "warn", "error"})
_FINISHED = object()
# Each build leaves its own target folder (manifest, run results, logs: ~4 MB). The newest stay for
# reading; older ones go once no build can still be writing them, so target/ does not grow with
# every close.
KEPT_BUILD_FOLDERS = 20
IN_USE_FOR_AT_MOST_SECONDS = 6 * 3600
BUILD_FOLDER = re.compile(r".+-[0-9a-f]{7}-[0-9a-f]{7}")


class CallbillDbtResource(dg.ConfigurableResource):
    """The dbt project, profiles and target that the close builds, in process (`DbtBuildInProcess`)."""

    project_dir: str
    profiles_dir: str | None = None
    target: str | None = None


def close_dbt_warehouse_connection() -> None:
    """dbt-duckdb keeps its database open after a programmatic run, with its own settings: close it,
    or the next step's connection to the same file (other settings) is refused."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()


def interrupt_dbt_warehouse_query() -> None:
    """Stop the query dbt-duckdb runs (a step stopped early); dbt then fails its node and winds down."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    connection = getattr(DuckDBConnectionManager._ENV, "conn", None)
    if connection is not None:
        connection.interrupt()


def remove_old_build_folders(target_root: Path) -> list[Path]:
    """Remove the build folders beyond the newest KEPT_BUILD_FOLDERS that nothing wrote to lately.
    Another close sharing target/ may be removing the same folders: one gone meanwhile is skipped."""
    modified = {}
    for folder in target_root.iterdir():
        if BUILD_FOLDER.fullmatch(folder.name):
            try:
                info = folder.stat()
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                modified[folder] = info.st_mtime
    newest_first = sorted(modified, key=modified.__getitem__, reverse=True)
    stale_before = time.time() - IN_USE_FOR_AT_MOST_SECONDS
    removed = [folder for folder in newest_first[KEPT_BUILD_FOLDERS:] if modified[folder] < stale_before]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def skip_debug_events_nobody_reads() -> None:
    """dbt makes every event a protobuf message before asking its loggers and callbacks whether they
    want it: a tenth of a close's Python went into debug events (each SQL statement, connection and
    cache lookup) that no logger of the build writes and `events()` ignores. Such an event is now
    dropped first, in this process only, while every logger is above debug and every callback says
    it ignores them; any other dbt invocation is unchanged."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager

    fire_event = EventManager.fire_event
    if getattr(fire_event, "skips_debug_events", False):
        return
    track_behavior_change_warn.ignores_debug_events = True  # type: ignore[attr-defined] # reads warnings only
    unread = {EventLevel.DEBUG, EventLevel.TEST}

    def fire_read_event(self: EventManager, e: Any, level: Any = None, *args: Any, **kwargs: Any) -> None:
        if (
            (level or e.level_tag()) in unread
            and self.callbacks
            and all(getattr(callback, "ignores_debug_events", False) for callback in self.callbacks)
            and all(logger.level not in unread for logger in self.loggers)
        ):
            return
        fire_event(self, e, level, *args, **kwargs)

    fire_read_event.skips_debug_events = True  # type: ignore[attr-defined]
    EventManager.fire_event = fire_read_event  # type: ignore[method-assign]


def parse_debug_events_when_read() -> None:
    """dbt parses each event's fields into a protobuf message as it constructs the event, before
    anyone is asked whether they read it; a debug event (each SQL statement, connection) is now
    parsed when something first reads it, so the ones dropped unread (above) are never parsed. The
    message is the same when it is read: construction and firing are one statement in dbt."""
    from dbt_common.events.base_types import BaseEvent, DebugLevel

    construct = BaseEvent.__init__
    if getattr(construct, "parses_debug_events_when_read", False):
        return
    get_field, set_field = BaseEvent.__getattr__, BaseEvent.__setattr__

    def parse_pending(event: BaseEvent) -> None:
        pending = event.__dict__.pop("_unparsed", None)
        if pending is not None:
            construct(event, **pending)

    def construct_lazily(self: BaseEvent, *args: Any, **kwargs: Any) -> None:
        if isinstance(self, DebugLevel) and not args:
            self.__dict__["_unparsed"] = kwargs
        else:
            construct(self, *args, **kwargs)

    def read_field(self: BaseEvent, key: str) -> Any:
        parse_pending(self)
        return get_field(self, key)

    def write_field(self: BaseEvent, key: str, value: Any) -> None:
        parse_pending(self)
        set_field(self, key, value)

    construct_lazily.parses_debug_events_when_read = True  # type: ignore[attr-defined]
    BaseEvent.__init__ = construct_lazily  # type: ignore[method-assign]
    BaseEvent.__getattr__ = read_field  # type: ignore[method-assign]
    BaseEvent.__setattr__ = write_field  # type: ignore[method-assign]


def free_node_contexts_when_the_node_ends() -> None:
    """Each node makes jinja contexts that refer to themselves (a dict of ~600 macros, each holding
    the dict): ~300,000 objects per close that only the cyclic garbage collector frees, in ~0.7 s
    of a small close. A context made while a node runs is emptied when the node ends, so reference
    counting frees it at once; contexts made outside a node (the build's own) are left alone."""
    from dbt.context.base import BaseContext
    from dbt.task.base import BaseRunner

    to_dict, run_with_hooks = BaseContext.to_dict, BaseRunner.run_with_hooks
    if getattr(run_with_hooks, "frees_node_contexts", False):
        return
    node = threading.local()

    def to_dict_of_the_node(self: BaseContext) -> dict[str, Any]:
        context = to_dict(self)
        made = getattr(node, "contexts", None)
        if made is not None:
            made.append(context)
        return context

    def run_freeing_contexts(self: BaseRunner, manifest: Any) -> Any:
        node.contexts = []
        try:
            return run_with_hooks(self, manifest)
        finally:
            for context in node.contexts:
                context.clear()
            node.contexts = None

    run_freeing_contexts.frees_node_contexts = True  # type: ignore[attr-defined]
    BaseContext.to_dict = to_dict_of_the_node  # type: ignore[method-assign]
    BaseRunner.run_with_hooks = run_freeing_contexts  # type: ignore[method-assign]


def compare_profiles_without_the_warehouse_folder() -> None:
    """dbt parses the whole project again when the profile's connection info differs from the one the
    partial parse was made with, and the DuckDB file's path is part of it: a close of another
    warehouse file (each test's, a bench run's) paid a full parse (seconds). The parse depends on
    the database name, which is the file's stem and still compared, not on the folder the file is
    in; so the path leaves the comparison (in this process only: `dbt debug` still prints it)."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    keys = DuckDBCredentials._connection_keys
    if getattr(keys, "without_the_path", False):
        return

    def connection_keys_without_the_path(self: DuckDBCredentials) -> tuple[str, ...]:
        return tuple(key for key in keys(self) if key != "path")

    connection_keys_without_the_path.without_the_path = True  # type: ignore[attr-defined]
    DuckDBCredentials._connection_keys = connection_keys_without_the_path  # type: ignore[method-assign]


class DbtBuildInProcess:
    """One dbt invocation for an asset step: `events()` yields its Dagster events as nodes finish."""

    def __init__(self, context: dg.AssetExecutionContext, dbt: CallbillDbtResource, args: Sequence[str]) -> None:
        manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        params = get_updated_cli_invocation_params_for_context(
            context=context, manifest=manifest, dagster_dbt_translator=translator
        )
        self.context = context
        self.manifest = params.manifest
        self.translator = params.dagster_dbt_translator
        self.project = params.dbt_project
        self.project_dir = Path(params.dbt_project.project_dir if params.dbt_project else dbt.project_dir)
        target_root = Path(os.environ.get("DBT_TARGET_PATH", "target"))
        if not target_root.is_absolute():
            target_root = Path(dbt.project_dir) / target_root
        self.target_root = target_root
        self.target_path = (
            target_root / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
        )
        self.args = [
            *args,
            *params.selection_args,
            "--project-dir", str(self.project_dir),
            "--profiles-dir", str(dbt.profiles_dir or dbt.project_dir),
            "--target-path", str(self.target_path),
            "--log-path", str(self.target_path),
            # dbt's own console output is off: events() writes each message to stdout instead.
            "--log-level", "none",
            # No manifest.json (dbt serialises the whole manifest twice per invocation); the run
            # results, which the step reads, are written after the build (events()).
            "--no-write-json",
            "--no-send-anonymous-usage-stats",
        ]  # fmt: skip
        if dbt.target:
            self.args += ["--target", dbt.target]
        if params.indirect_selection:
            # A subset of asset checks selected in the UI: only their tests (dagster-dbt's choice).
            self.args += ["--indirect-selection", params.indirect_selection]
        self.error: str | None = None
        compare_profiles_without_the_warehouse_folder()
        skip_debug_events_nobody_reads()
        parse_debug_events_when_read()
        free_node_contexts_when_the_node_ends()
        self._start_from_newest_partial_parse()

    def _start_from_newest_partial_parse(self) -> None:
        """Start from the project's target/partial_parse.msgpack, so dbt parses only what changed since."""
        newest = self.target_root / "partial_parse.msgpack"
        if newest.exists():
            self.target_path.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(newest, self.target_path / "partial_parse.msgpack")

    def _keep_partial_parse(self) -> None:
        """Leave this invocation's partial parse as the newest (atomically), for the next invocation
        against this warehouse. dbt checks its state (vars, profile, files) and re-parses if it differs."""
        source = self.target_path / "partial_parse.msgpack"
        if not source.exists():
            return
        temporary = self.target_root / f".partial_parse.{os.getpid()}.msgpack"
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, self.target_root / "partial_parse.msgpack")
        except OSError:
            temporary.unlink(missing_ok=True)

    def events(self) -> Iterator[Any]:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        messages: queue.SimpleQueue[Any] = queue.SimpleQueue()

        def on_event(message: Any) -> None:  # on dbt's threads
            if message.info.level in LOGGED_LEVELS or message.info.name in RESULT_EVENTS:
                messages.put(msg_to_dict(message))

        on_event.ignores_debug_events = True  # type: ignore[attr-defined]

        def run() -> None:
            try:
                result = dbtRunner(callbacks=[on_event]).invoke(self.args)
                if result.exception is not None:
                    # dbt's error spans lines ("Compilation Error in model x", then why): one line.
                    self.error = " ".join(str(result.exception).split()) or type(result.exception).__name__
                elif result.result is None:
                    self.error = "dbt did not run"
                if hasattr(result.result, "write"):
                    result.result.write(str(self.target_path / "run_results.json"))
            except BaseException as error:  # noqa: BLE001 - reported by the step, not lost on the thread
                self.error = f"{type(error).__name__}: {error}"
            finally:
                close_dbt_warehouse_connection()
                messages.put(_FINISHED)

        thread = threading.Thread(target=run, name="callbill-dbt", daemon=True)
        thread.start()
        try:
            while (raw := messages.get()) is not _FINISHED:
                if raw["info"]["level"] in LOGGED_LEVELS:
                    print(raw["info"]["msg"], flush=True)
                yield from DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={}).to_default_asset_events(
                    manifest=self.manifest,
                    dagster_dbt_translator=self.translator,
                    context=self.context,
                    target_path=self.target_path,
                    project=self.project,
                )
        finally:
            if thread.is_alive():  # the step stopped early (interrupted)
                interrupt_dbt_warehouse_query()
                thread.join(timeout=60)
        self._keep_partial_parse()
        remove_old_build_folders(self.target_root)

    def run_results(self) -> dict[str, Any]:
        path = self.target_path / "run_results.json"
        return orjson.loads(path.read_bytes()) if path.exists() else {}
