"""Start and stop real ``celery -A workers.app worker`` processes for end-to-end tests.

Each worker runs in its own session (process group), so stopping it can never leave a
prefork grandchild behind, and only the processes started here are ever signalled (by
PID / by the group this launcher created). Readiness is the worker's own ``ready.`` log
line; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.polling import wait_for
from workers.contract import settings as contract

if TYPE_CHECKING:
    import redis

_ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count(1)


class WorkerError(RuntimeError):
    """The worker did not start, or did not stop, within its bound; carries its log tail."""


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` from /proc (no psutil needed)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in children.read_text().split())
    return sorted(set(found))


def pid_alive(pid: int) -> bool:
    # A zombie still answers kill(0); read its state so an exited child counts as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class WorkerProcess:
    """One ``celery worker`` subprocess.

    ``queues=None`` starts it with no ``-Q`` (it must then consume every catalog queue).
    Test-friendly defaults: a short soft-shutdown phase and a 1 s unacked-restore sweep;
    ``visibility_timeout`` shortens kombu's redelivery of a dead worker's messages.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        queues: Iterable[str] | None = ("default",),
        concurrency: int = 1,
        log_dir: Path,
        soft_shutdown_timeout: float = 1.0,
        unacked_restore_interval: int = 1,
        visibility_timeout: int | None = None,
        extra_env: Mapping[str, str] | None = None,
        pool: str = "prefork",
    ) -> None:
        self.name = f"w{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self.pool = pool
        self.redis_url = redis_url
        self.queues = None if queues is None else tuple(queues)
        self.concurrency = concurrency
        self.log_path = log_dir / f"{self.name}.log"
        self.env = {
            **os.environ,
            contract.ENV_REDIS_URL: redis_url,
            contract.ENV_ENV: "test",
            # Fargate sends SIGTERM; remapped, it is a bounded soft phase then a cold
            # shutdown that puts unacknowledged messages back (DESIGN 5).
            contract.ENV_REMAP_SIGTERM: "SIGQUIT",
            contract.ENV_SOFT_SHUTDOWN_TIMEOUT: str(soft_shutdown_timeout),
            contract.ENV_UNACKED_RESTORE_INTERVAL: str(unacked_restore_interval),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        if visibility_timeout is not None:
            self.env[contract.ENV_VISIBILITY_TIMEOUT] = str(visibility_timeout)
        self.process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------ lifecycle

    def argv(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "-c",
            str(self.concurrency),
            "--pool",
            self.pool,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"{self.name}@%h",
        ]
        if self.queues is not None:
            argv[6:6] = ["-Q", ",".join(self.queues)]
        return argv

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(),
                cwd=_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self._ready, timeout=timeout, what=f"worker {self.name} to be ready")
        except AssertionError:
            self.kill()
            raise WorkerError(f"worker {self.name} did not start:\n{self.log_tail()}") from None
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise WorkerError(
                f"worker {self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            )
        return f"{self.name}@" in self.log() and " ready." in self.log()

    @property
    def pid(self) -> int:
        if self.process is None:
            raise WorkerError("worker not started")
        return self.process.pid

    def pool_pids(self) -> list[int]:
        """The prefork pool children (billiard may replace them as tasks run)."""
        return [pid for pid in _children(self.pid) if pid_alive(pid)]

    def wait_pool(self, timeout: float = 10.0) -> list[int]:
        return wait_for(
            lambda: pids if len(pids := self.pool_pids()) >= self.concurrency else None,
            timeout=timeout,
            what=f"{self.concurrency} pool children of {self.name}",
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        """Signal the main process only (as ECS does with the container's PID 1)."""
        if self.running:
            os.kill(self.pid, signum)

    def wait_exit(self, timeout: float) -> int:
        if self.process is None:
            raise WorkerError("worker not started")
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker {self.name} still running after {timeout}s:\n{self.log_tail()}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (a lost container)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        """TERM, wait (bounded), then KILL the group so no pool child survives."""
        if self.process is None:
            return
        if self.running:
            self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        self.kill()

    def __enter__(self) -> WorkerProcess:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ logs

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


class WorkerFleet:
    """Workers started by one test (or module); ``stop_all`` ends exactly those."""

    def __init__(self, redis_url: str, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.workers: list[WorkerProcess] = []

    def start(self, **options: Any) -> WorkerProcess:
        worker = WorkerProcess(self.redis_url, log_dir=self.log_dir, **options)
        self.workers.append(worker)
        return worker.start()

    def kill_all(self) -> None:
        """SIGKILL every worker's group: a fast teardown when the broker is thrown away."""
        for worker in self.workers:
            worker.kill()

    def stop_all(self, timeout: float = 15.0) -> None:
        """TERM every worker at once, wait for each (bounded), then KILL their groups."""
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):
                worker.signal(signal.SIGTERM)
        for worker in self.workers:
            if worker.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.process.wait(timeout)
            worker.kill()


# ---------------------------------------------------------------- broker inspection
# kombu's Redis transport: a queue is a list of JSON envelopes (priority 0 uses the bare
# queue name); delivered-but-unacknowledged messages sit in the ``unacked`` hash as
# ``[envelope, exchange, routing_key]`` until acked, rejected or restored.


def queued_task_ids(client: redis.Redis, queue: str) -> list[str]:
    return [json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)]


def unacked_task_ids(client: redis.Redis) -> list[str]:
    from kombu.transport.redis import Channel

    return [json.loads(raw)[0]["headers"]["id"] for raw in client.hvals(Channel.unacked_key)]
