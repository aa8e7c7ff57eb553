"""Wall time and peak resident memory of a process tree, sampled while it runs."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Measurement:
    seconds: float
    peak_rss_mb: float


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def run_measured(command: list[str], env: dict[str, str], log_path: Path) -> Measurement:
    """Run a command; sample the RSS of it and all its children every 50 ms."""
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        watched, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                peak = max(peak, tree_rss(watched))
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}); see {log_path}")
    return Measurement(seconds, peak / 2**20)


def measure_here(fn: Callable[[], object]) -> tuple[object, Measurement]:
    """Run fn in this process; its peak RSS is sampled on a thread."""
    me, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], me.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        value = fn()
    finally:
        done.set()
        sampler.join()
    return value, Measurement(time.perf_counter() - started, peak[0] / 2**20)
