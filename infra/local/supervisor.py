"""``taskport local``: the whole system on 127.0.0.1 as child processes, one command.

redis-server (unless ``REDIS_URL`` is given), moto's server, one Celery worker per catalog
queue and the local API (gateway + schedule ticker). Every child runs in its own process
group, so Ctrl-C reaches only this supervisor, which then stops them in order: TERM to the
API and the workers' groups (workers remap it to a bounded soft shutdown), a wait longer
than the soft-shutdown timeout, TERM to moto and Redis, and finally KILL to every group so
no prefork grandchild survives. A child that dies while running is reported loudly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import IO, Final

from infra.local import aws_resources, state, tokens
from infra.local.lambda_context import LOCAL_REGION
from infra.local.moto_server import MotoServer
from infra.local.redis_server import RedisServer, free_port
from workers.catalog import QUEUES, QueueSpec
from workers.contract.settings import (
    ENV_AWS_DEFAULT_REGION,
    ENV_AWS_ENDPOINT_URL,
    ENV_AWS_REGION,
    ENV_ENV,
    ENV_REDIS_TIMEOUT,
    ENV_REDIS_URL,
    ENV_REMAP_SIGTERM,
    ENV_SOFT_SHUTDOWN_TIMEOUT,
)

ENV_API_PORT: Final = "TASKPORT_API_PORT"
DEFAULT_API_PORT: Final = 3000
READY_PREFIX: Final = "TASKPORT_READY "
LOCAL_SOFT_SHUTDOWN_SECONDS: Final = "5"
LOCAL_REDIS_TIMEOUT_SECONDS: Final = "5"
STARTUP_TIMEOUT_SECONDS: Final = 90.0
# Celery logs "<node> ready." once the consumer is running.
_WORKER_READY_MARK: Final = " ready."


class StartupError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    ready: threading.Event = field(default_factory=threading.Event)
    ready_mark: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid


def worker_argv(queue: QueueSpec) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker",
        "-Q", queue.name,
        "--pool", queue.pool,
        "-c", str(queue.concurrency),
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"{queue.name}@%h",
        "--loglevel", "INFO",
    ]  # fmt: skip


def child_environment(
    base: Mapping[str, str], *, redis_url: str, moto_url: str, extra: Mapping[str, str]
) -> dict[str, str]:
    env = dict(base)
    # Never let a developer's real AWS profile or session reach local children.
    for leaked in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(leaked, None)
    env.update(
        {
            ENV_REDIS_URL: redis_url,
            ENV_ENV: "local",
            ENV_AWS_ENDPOINT_URL: moto_url,
            ENV_AWS_DEFAULT_REGION: LOCAL_REGION,  # boto3 reads only this one
            ENV_AWS_REGION: LOCAL_REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",  # moto's dummy credentials
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.setdefault(ENV_SOFT_SHUTDOWN_TIMEOUT, LOCAL_SOFT_SHUTDOWN_SECONDS)
    # AWS's sub-second Redis timeout (a fast 503 when ElastiCache hangs) would turn a busy
    # laptop's scheduling hiccup into a 503; locally, patience is the better default.
    env.setdefault(ENV_REDIS_TIMEOUT, LOCAL_REDIS_TIMEOUT_SECONDS)
    env.update(extra)
    return env


def curl_lines(url: str, token: str) -> list[str]:
    auth = shlex.quote(f"Authorization: Bearer {token}")
    body = shlex.quote(json.dumps({"task": "diagnostics.echo", "args": {"message": "hello"}}))
    return [
        f"curl -s -X POST {url}/v1/tasks -H {auth} -H 'Content-Type: application/json' -d {body}",
        f"curl -s {url}/v1/tasks -H {auth}",
    ]


def api_port_from_env(environ: Mapping[str, str]) -> int:
    raw = environ.get(ENV_API_PORT, "")
    try:
        port = int(raw) if raw else DEFAULT_API_PORT
    except ValueError:
        raise StartupError(f"{ENV_API_PORT} must be a port number, got {raw!r}") from None
    return port or free_port()


class Supervisor:
    def __init__(self, out: IO[str] | None = None, err: IO[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.children: list[Child] = []
        self.redis: RedisServer | None = None
        self.stop_requested = threading.Event()
        self.failed: list[str] = []
        self._print_lock = threading.Lock()
        self._stopping = False
        self._owns_state = False

    # ---- output ----

    def log(self, message: str) -> None:
        with self._print_lock:
            print(f"taskport local: {message}", file=self.err, flush=True)

    def _pump(self, child: Child, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if child.ready_mark and child.ready_mark in line:
                child.ready.set()
            with self._print_lock:
                print(f"{child.name:>22} | {line}", file=self.err, flush=True)
        stream.close()

    def spawn(
        self, name: str, argv: list[str], env: Mapping[str, str], ready_mark: str | None = None
    ) -> Child:
        process = subprocess.Popen(  # noqa: S603 - argv built here, no shell
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self._adopt(name, process, ready_mark)

    def _adopt(
        self, name: str, process: subprocess.Popen[bytes], ready_mark: str | None = None
    ) -> Child:
        child = Child(name=name, process=process, ready_mark=ready_mark)
        self.children.append(child)
        if process.stdout is not None:
            threading.Thread(
                target=self._pump, args=(child, process.stdout), name=f"pump-{name}", daemon=True
            ).start()
        return child

    # ---- start ----

    def start(self, environ: Mapping[str, str]) -> tuple[state.LocalState, str]:
        started = time.monotonic()
        _refuse_second_instance()
        port = api_port_from_env(environ)
        _check_port_free(port)
        # From here on this run owns the state dir (key, state file) and cleans it up.
        self._owns_state = True
        key = tokens.SigningKey.generate()
        key_file = key.save(tokens.key_path())

        moto = MotoServer()
        moto_process = moto.spawn(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._adopt("moto", moto_process)
        redis_url = environ.get(ENV_REDIS_URL, "")
        if not redis_url:
            self.redis = RedisServer().start()
            assert self.redis.process is not None
            self.children.append(Child(name="redis", process=self.redis.process))
            redis_url = self.redis.url
        moto.wait_ready()
        exported = aws_resources.create_local_resources(moto.url, LOCAL_REGION, environ)
        env = child_environment(environ, redis_url=redis_url, moto_url=moto.url, extra=exported)

        workers = [
            self.spawn(
                f"worker-{q.name}",
                worker_argv(q),
                {**env, **({ENV_REMAP_SIGTERM: "SIGQUIT"} if q.remap_sigterm else {})},
                _WORKER_READY_MARK,
            )
            for q in QUEUES.values()
        ]
        api_argv = [
            sys.executable, "-m", "infra.local.api_process",
            "--port", str(port), "--key", str(key_file),
        ]  # fmt: skip
        api = self.spawn("api", api_argv, env)
        url = f"http://127.0.0.1:{port}"
        self._wait_ready(workers, api, url)

        local_state = state.LocalState(
            url=url,
            redis_url=redis_url,
            moto_url=moto.url,
            pids={c.name: c.pid for c in self.children},
            supervisor_pid=os.getpid(),
        )
        state.write_state(local_state)
        self.log(f"started in {time.monotonic() - started:.1f}s")
        return local_state, tokens.mint(key)

    def _wait_ready(self, workers: list[Child], api: Child, url: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        api_ready = False
        while time.monotonic() < deadline:
            if self.stop_requested.is_set():
                raise StartupError("interrupted during start")
            for child in self.children:
                if child.process.poll() is not None:
                    raise StartupError(
                        f"{child.name} (pid {child.pid}) exited with {child.process.returncode}"
                        " during start; its output is above"
                    )
            api_ready = api_ready or _health_ok(url)
            if api_ready and all(w.ready.is_set() for w in workers):
                return
            time.sleep(0.1)
        waiting = [w.name for w in workers if not w.ready.is_set()]
        if not api_ready:
            waiting.append("api")
        raise StartupError(f"not ready after {STARTUP_TIMEOUT_SECONDS:g}s: {', '.join(waiting)}")

    def announce(self, local_state: state.LocalState, token: str) -> None:
        lines = [
            READY_PREFIX
            + json.dumps(
                {
                    "url": local_state.url,
                    "redis_url": local_state.redis_url,
                    "moto_url": local_state.moto_url,
                    "pids": local_state.pids,
                    "state_dir": str(state.state_dir()),
                },
                separators=(",", ":"),
            ),
            "",
            f"taskport is running: {local_state.url}  (Ctrl-C stops everything)",
            "Dev token (tenant 'local', all scopes, 12 h):",
            token,
            "",
            "Try:",
            *curl_lines(local_state.url, token),
            "",
            "Or the CLI, in another shell:",
            "  taskport submit diagnostics.echo --arg message=hello --watch",
            "  taskport catalog",
            "",
        ]
        with self._print_lock:
            print("\n".join(lines), file=self.out, flush=True)

    # ---- run and stop ----

    def monitor(self) -> None:
        reported: set[str] = set()
        while not self.stop_requested.wait(0.2):
            for child in self.children:
                code = child.process.poll()
                if code is not None and child.name not in reported:
                    reported.add(child.name)
                    self.failed.append(child.name)
                    with self._print_lock:
                        print(
                            f"\n{'!' * 72}\n!!! taskport local: {child.name} (pid {child.pid}) "
                            f"DIED with exit code {code}; the rest keeps running, "
                            f"Ctrl-C to stop\n{'!' * 72}",
                            file=self.err,
                            flush=True,
                        )

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested.is_set():
            # Second Ctrl-C: no more waiting.
            self.log("second signal: killing everything now")
            self._signal_all(signal.SIGKILL)
            return
        self.stop_requested.set()

    def _signal_all(self, sig: int, names: set[str] | None = None) -> None:
        for child in self.children:
            if names is None or child.name in names:
                _killpg(child.pid, sig)

    def shutdown(self) -> None:
        if self._stopping or not self.children:
            return
        self._stopping = True
        soft = float(os.environ.get(ENV_SOFT_SHUTDOWN_TIMEOUT) or LOCAL_SOFT_SHUTDOWN_SECONDS)
        front = {c.name for c in self.children if c.name not in ("redis", "moto")}
        self.log(f"stopping (workers get up to {soft:g}s to finish running tasks)")
        self._signal_all(signal.SIGTERM, front)
        # Celery's soft phase lasts the whole timeout when a task runs, then a cold shutdown.
        self._wait(front, soft + 5.0)
        # Redis last: workers put unacknowledged messages back on their queues on the way out.
        self._signal_all(signal.SIGTERM, {"redis", "moto"})
        self._wait({"redis", "moto"}, 5.0)
        # Whatever is left in any group (prefork grandchildren included) goes now.
        self._signal_all(signal.SIGKILL)
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(5)
        if self._owns_state:
            state.remove_state()
        self.log("stopped")

    def _wait(self, names: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for child in self.children:
            if child.name in names:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(max(0.0, deadline - time.monotonic()))
                if child.process.poll() is None:
                    self.log(f"{child.name} still running after {timeout:g}s: killing its group")


def _refuse_second_instance() -> None:
    running = state.read_state()
    if running is None or not running.supervisor_pid:
        return
    try:
        os.kill(running.supervisor_pid, 0)
    except ProcessLookupError:
        return  # a stale file from a run that was killed
    except PermissionError:
        pass
    raise StartupError(
        f"taskport local is already running (pid {running.supervisor_pid}, {running.url}); "
        f"stop it, or set {state.ENV_STATE_DIR} and {ENV_API_PORT}=0 for a second one"
    )


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise StartupError(
                f"127.0.0.1:{port} is in use; set {ENV_API_PORT} to another port (0 = any free)"
            ) from None


def _killpg(pgid: int, sig: int) -> None:
    # Each child leads its own group (start_new_session), so its pid is the group id.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v1/health", timeout=1) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


def run_local(environ: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    supervisor = Supervisor()
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    try:
        local_state, token = supervisor.start(environ)
    except (StartupError, RuntimeError) as exc:
        supervisor.log(f"could not start: {exc}")
        supervisor.shutdown()
        return 1
    supervisor.announce(local_state, token)
    supervisor.monitor()
    supervisor.shutdown()
    return 1 if supervisor.failed else 0
