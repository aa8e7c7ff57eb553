"""A terse run logger for the command line: one line per step and per failed check."""

import logging
import sys

import dagster as dg
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata


class CloseProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if not has_log_record_metadata(record):
            return
        meta = get_log_record_metadata(record)
        event = meta.get("dagster_event")
        if event is None:
            return
        step = meta.get("step_key") or ""
        kind = event.event_type_value
        if kind == "STEP_START":
            line = f"  … {step}"
        elif kind == "STEP_SUCCESS":
            line = f"  ✓ {step}"
        elif kind == "STEP_FAILURE":
            line = f"  ✗ {step}"
        elif kind == "STEP_SKIPPED":
            line = f"  - {step} skipped"
        elif kind == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            evaluation = event.event_specific_data
            # a warning lists rows to review; only an error-severity check stops publication
            outcome = "warned" if evaluation.severity == dg.AssetCheckSeverity.WARN else "failed"
            line = f"    check {outcome}: {evaluation.check_name}"
        else:
            return
        print(line, file=sys.stderr, flush=True)


@dg.logger(description="One line per step and per failed check, for `callbill close`.")
def close_progress(init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("callbill.close")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not log.handlers:
        log.addHandler(CloseProgressHandler())
    return log
