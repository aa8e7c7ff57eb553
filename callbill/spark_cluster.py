"""A standalone Spark cluster on this machine: a master and a worker, each a JVM of its own, started
from the pyspark distribution's own launch script (bin/spark-class). `make test-spark` builds on it
(the profile's spark.master is CALLBILL_SPARK_MASTER); a provider's own cluster is reached the same
way, by pointing CALLBILL_SPARK_MASTER at its master (docs/spark.md).
"""

from __future__ import annotations

import json
import os
import signal
import socket
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    master_url: str  # spark://host:port, what spark.master names
    status_url: str  # the master's web UI; /json/ is its state

    def status(self) -> dict:
        """The master's state (workers, applications running and completed); {} while it cannot answer."""
        try:
            with urllib.request.urlopen(f"{self.status_url}/json/", timeout=2) as response:
                return json.load(response)
        except OSError:
            return {}


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
    }
    master_port, master_ui_port, worker_ui_port = free_port(), free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{master_port}", f"http://127.0.0.1:{master_ui_port}")
    spark_class = str(home / "bin" / "spark-class")
    commands = {
        "master": [
            spark_class, "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(master_port), "--webui-port", str(master_ui_port),
        ],
        "worker": [
            spark_class, "org.apache.spark.deploy.worker.Worker",
            "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
            "--webui-port", str(worker_ui_port), "--work-dir", str(folder / "work"), cluster.master_url,
        ],
    }  # fmt: skip
    processes: dict[str, subprocess.Popen] = {}
    try:
        for role, command in commands.items():
            # The JVM keeps its own handle on the log; this process's is closed at once.
            with (folder / f"{role}.log").open("w") as log:
                processes[role] = subprocess.Popen(
                    command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
        deadline = time.monotonic() + STARTED_WITHIN_SECONDS
        while cluster.status().get("aliveworkers", 0) < 1:
            ended = [role for role, process in processes.items() if process.poll() is not None]
            if ended or time.monotonic() > deadline:
                why = f"the {ended[0]} stopped" if ended else f"no worker registered within {STARTED_WITHIN_SECONDS} s"
                raise SparkError(f"the standalone Spark cluster did not start: {why} (logs in {folder})")
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
