"""Local mode's process plan: worker command lines, child environment, ports, printed curl."""

from __future__ import annotations

import io
import os
import shlex
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from infra.local import state, supervisor
from workers.catalog import QUEUES, QueueSpec
from workers.contract.settings import (
    ENV_ALLOW_LOOPBACK_WEBHOOKS,
    ENV_ENV,
    ENV_REDIS_TIMEOUT,
    ENV_REDIS_URL,
    ENV_SOFT_SHUTDOWN_TIMEOUT,
)


@pytest.mark.parametrize("queue", list(QUEUES.values()), ids=list(QUEUES))
def test_one_worker_per_queue_with_the_catalog_pool_and_concurrency(queue: QueueSpec) -> None:
    argv = supervisor.worker_argv(queue)
    joined = " ".join(argv)
    assert f"-A workers.app worker -Q {queue.name} " in joined
    assert argv[argv.index("--pool") + 1] == queue.pool
    assert argv[argv.index("-c") + 1] == str(queue.concurrency)
    assert argv[argv.index("-n") + 1] == f"{queue.name}@%h"
    for flag in ("--without-gossip", "--without-mingle", "--without-heartbeat"):
        assert flag in argv


def test_children_get_local_aws_and_redis_and_never_a_real_profile() -> None:
    base = {
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "real",
        ENV_ALLOW_LOOPBACK_WEBHOOKS: "1",
        "PATH": "/bin",
    }
    env = supervisor.child_environment(
        base, redis_url="redis://127.0.0.1:1/0", moto_url="http://127.0.0.1:2", extra={"X": "y"}
    )
    assert "AWS_PROFILE" not in env
    assert "AWS_SESSION_TOKEN" not in env
    assert env[ENV_REDIS_URL] == "redis://127.0.0.1:1/0"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:2"
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"]
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env[ENV_ENV] == "local"
    assert float(env[ENV_SOFT_SHUTDOWN_TIMEOUT]) <= 10
    assert float(env[ENV_REDIS_TIMEOUT]) >= 2  # no 503 for a busy laptop
    assert env[ENV_ALLOW_LOOPBACK_WEBHOOKS] == "1"
    assert env["X"] == "y"
    assert env["PATH"] == "/bin"


def test_an_explicit_soft_shutdown_timeout_is_kept() -> None:
    env = supervisor.child_environment(
        {ENV_SOFT_SHUTDOWN_TIMEOUT: "2"}, redis_url="redis://x", moto_url="http://x", extra={}
    )
    assert env[ENV_SOFT_SHUTDOWN_TIMEOUT] == "2"


def test_api_port() -> None:
    assert supervisor.api_port_from_env({}) == 3000
    assert supervisor.api_port_from_env({supervisor.ENV_API_PORT: "3100"}) == 3100
    assert supervisor.api_port_from_env({supervisor.ENV_API_PORT: "0"}) > 0
    with pytest.raises(supervisor.StartupError):
        supervisor.api_port_from_env({supervisor.ENV_API_PORT: "abc"})


def test_curl_lines_parse_as_shell_commands_with_the_token() -> None:
    lines = supervisor.curl_lines("http://127.0.0.1:3000", "aaa.bbb.ccc")
    assert len(lines) == 2
    submit = shlex.split(lines[0])
    assert submit[0] == "curl"
    assert "http://127.0.0.1:3000/v1/tasks" in submit
    assert "Authorization: Bearer aaa.bbb.ccc" in submit
    assert '{"task": "diagnostics.echo", "args": {"message": "hello"}}' in submit
    assert "Authorization: Bearer aaa.bbb.ccc" in shlex.split(lines[1])


def test_a_busy_api_port_fails_the_start_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(state.ENV_STATE_DIR, str(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        local = supervisor.Supervisor()
        with pytest.raises(supervisor.StartupError, match="in use"):
            local.start({supervisor.ENV_API_PORT: str(port)})
    assert local.children == []
    assert list(tmp_path.iterdir()) == []  # no key written, nothing to clean up


def test_a_second_instance_on_the_same_state_dir_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(state.ENV_STATE_DIR, str(tmp_path))
    # This very process plays the running supervisor.
    running = state.LocalState(
        url="http://x", redis_url="r", moto_url="m", supervisor_pid=os.getpid()
    )
    state.write_state(running)
    local = supervisor.Supervisor()
    with pytest.raises(supervisor.StartupError, match="already running"):
        local.start({supervisor.ENV_API_PORT: "0"})
    local.shutdown()
    assert state.read_state() == running  # the other instance's state is left alone


def test_a_child_that_dies_is_reported_loudly() -> None:
    err = io.StringIO()
    local = supervisor.Supervisor(out=io.StringIO(), err=err)
    local.spawn("worker-fake", [sys.executable, "-c", "print('bye'); raise SystemExit(3)"], {})
    watcher = threading.Thread(target=local.monitor)
    watcher.start()
    deadline = time.monotonic() + 10
    while "DIED" not in err.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    local.request_stop(0, None)
    watcher.join(5)
    local.shutdown()
    assert "worker-fake" in err.getvalue()
    assert "DIED with exit code 3" in err.getvalue()
    assert local.failed == ["worker-fake"]
