"""A standalone Spark cluster on this machine: a master and a worker, each a JVM of its own, started
from the pyspark distribution's own launch script (bin/spark-class). `make test-spark` builds on it
(the profile's spark.master is CALLBILL_SPARK_MASTER); a provider's own cluster is reached the same
way, by pointing CALLBILL_SPARK_MASTER at its master (docs/spark.md).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from callbill.spark import SparkError

STARTED_WITHIN_SECONDS = 120


def pyspark_home() -> Path:
    try:
        import pyspark
    except ImportError:
        raise SparkError("pyspark is not installed in this environment: run `make spark-install`") from None
    return Path(pyspark.__file__).resolve().parent


# The master binds ports it chooses itself (port 0): a port picked here and handed over could be
# taken by another JVM (a second cluster, a driver) before the master binds it.
MASTER_URL_LOGGED = re.compile(r"Starting Spark master at (spark://\S+)")
MASTER_UI_PORT_LOGGED = re.compile(r"Successfully started service 'MasterUI' on port (\d+)")


@dataclass(frozen=True)
class Cluster:
    master_url: str  # spark://host:port, what spark.master names
    status_url: str  # the master's web UI; /json/ is its state

    def status(self) -> dict:
        """The master's state (workers, applications running and completed); {} while it cannot answer."""
        try:
            with urllib.request.urlopen(f"{self.status_url}/json/", timeout=2) as response:
                return json.load(response)
        except (OSError, ValueError):
            return {}


def _started(processes: dict[str, subprocess.Popen], folder: Path, deadline: float) -> None:
    """Raise the reason the cluster did not start if a process ended or the deadline passed."""
    ended = [role for role, process in processes.items() if process.poll() is not None]
    if ended or time.monotonic() > deadline:
        why = f"the {ended[0]} stopped" if ended else f"it was not up within {STARTED_WITHIN_SECONDS} s"
        raise SparkError(f"the standalone Spark cluster did not start: {why} (logs in {folder})")


def _start(role: str, command: list[str], env: dict, folder: Path) -> subprocess.Popen:
    # The JVM keeps its own handle on the log; this process's is closed at once.
    with (folder / f"{role}.log").open("w") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def standalone_cluster(folder: Path, cores: int = 2, memory: str = "2g") -> Iterator[Cluster]:
    """Start a master and one worker (logs and the worker's files under folder), wait until the
    worker has registered, yield the cluster, and stop both."""
    home = pyspark_home()
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_WORKER_DIR": str(folder / "work"),
        # Jobs reach the master by spark.master; its REST submission server would take a fixed port.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
    }
    spark_class = str(home / "bin" / "spark-class")
    processes: dict[str, subprocess.Popen] = {}
    try:
        processes["master"] = _start(
            "master",
            [spark_class, "org.apache.spark.deploy.master.Master",
             "--host", "127.0.0.1", "--port", "0", "--webui-port", "0"],
            env, folder,
        )  # fmt: skip
        deadline = time.monotonic() + STARTED_WITHIN_SECONDS
        while True:
            logged = (folder / "master.log").read_text(errors="replace")
            master_url, ui_port = MASTER_URL_LOGGED.search(logged), MASTER_UI_PORT_LOGGED.search(logged)
            if master_url and ui_port:
                break
            _started(processes, folder, deadline)
            time.sleep(0.25)
        cluster = Cluster(master_url.group(1), f"http://127.0.0.1:{ui_port.group(1)}")
        processes["worker"] = _start(
            "worker",
            [spark_class, "org.apache.spark.deploy.worker.Worker",
             "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
             "--webui-port", "0", "--work-dir", str(folder / "work"), cluster.master_url],
            env, folder,
        )  # fmt: skip
        while cluster.status().get("aliveworkers", 0) < 1:
            _started(processes, folder, deadline)
            time.sleep(0.5)
        yield cluster
    finally:
        for process in reversed(processes.values()):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
