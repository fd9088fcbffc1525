"""Local mode end to end: ``taskport local`` as a subprocess, used only through HTTP and the CLI.

One local mode per module (free ports, a private state dir, a 2 s schedule tick); the tests
share it and the last one stops it with SIGINT and checks that no process is left.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local.state import ENV_STATE_DIR, STATE_FILE
from infra.local.supervisor import ENV_API_PORT, READY_PREFIX
from infra.local.ticker import ENV_TICK_SECONDS
from workers.catalog import QUEUES, SCHEDULES
from workers.contract import scopes
from workers.contract.settings import ENV_REDIS_URL, ENV_SOFT_SHUTDOWN_TIMEOUT

pytestmark = pytest.mark.e2e

TICK_SECONDS = 2
HEARTBEAT = next(iter(SCHEDULES))
FINAL = {"SUCCESS", "FAILURE", "REVOKED"}


def _taskport_command() -> list[str]:
    script = Path(sys.executable).with_name("taskport")
    return [str(script)] if script.exists() else [sys.executable, "-m", "infra.local.cli"]


@dataclass
class Local:
    process: subprocess.Popen[bytes]
    ready: dict[str, Any]
    out: Path
    err: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return str(self.ready["url"])

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_taskport_command(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def token(self, *scope_names: str, tenant: str = "local") -> str:
        argv = ["token", "--tenant", tenant]
        for name in scope_names:
            argv += ["--scope", name]
        done = self.cli(*argv)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def logs(self) -> str:
        return self.err.read_text(errors="replace")


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    workdir = tmp_path_factory.mktemp("local-mode")
    env = dict(os.environ)
    env.pop(ENV_REDIS_URL, None)  # start its own redis-server
    env.update(
        {
            ENV_API_PORT: "0",
            ENV_STATE_DIR: str(workdir / "state"),
            ENV_TICK_SECONDS: str(TICK_SECONDS),
            ENV_SOFT_SHUTDOWN_TIMEOUT: "3",
        }
    )
    out, err = workdir / "stdout.txt", workdir / "stderr.txt"
    with out.open("wb") as out_file, err.open("wb") as err_file:
        process = subprocess.Popen(
            [*_taskport_command(), "local"], env=env, stdout=out_file, stderr=err_file
        )

    def ready_line() -> str | None:
        if process.poll() is not None:
            raise AssertionError(f"taskport local exited {process.returncode}:\n{err.read_text()}")
        return next(
            (ln for ln in out.read_text().splitlines() if ln.startswith(READY_PREFIX)), None
        )

    try:
        line = wait_for(ready_line, 90, "the ready line")
        yield Local(process, json.loads(line[len(READY_PREFIX) :]), out, err, env)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def submit(local: Local, token: str, task: str, args: dict[str, Any]) -> str:
    answer = httpx.post(
        f"{local.url}/v1/tasks",
        json={"task": task, "args": args},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def get_task(local: Local, token: str, task_id: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{local.url}/v1/tasks/{task_id}", headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def wait_final(local: Local, token: str, task_id: str, timeout: float = 30) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (t := get_task(local, token, task_id))["state"] in FINAL and t,
            timeout,
            f"task {task_id} to finish",
        )
    )


# ---- the tests (module order matters only for the last one) ----


def test_ready_line_names_every_child(local: Local) -> None:
    names = set(local.ready["pids"])
    assert {"redis", "moto", "api"} <= names
    assert {f"worker-{q}" for q in QUEUES} <= names
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", local.url)
    printed = local.out.read_text()
    assert "Dev token" in printed
    assert httpx.get(f"{local.url}/v1/health", timeout=5).status_code == 200


def test_echo_succeeds_over_http(local: Local) -> None:
    token = local.token()
    task_id = submit(local, token, "diagnostics.echo", {"message": "hello e2e"})
    done = wait_final(local, token, task_id)
    assert done["state"] == "SUCCESS"
    assert done["result"] == {"message": "hello e2e"}


def test_echo_succeeds_via_the_cli(local: Local) -> None:
    done = local.cli(
        "submit", "diagnostics.echo", "--arg", "message=from the cli", "--watch", "--timeout", "30"
    )
    assert done.returncode == 0, done.stderr
    task = json.loads(done.stdout)
    assert (task["state"], task["result"]) == ("SUCCESS", {"message": "from the cli"})
    status = local.cli("status", task["id"])
    assert status.returncode == 0
    assert json.loads(status.stdout)["state"] == "SUCCESS"
    catalog = local.cli("catalog")
    assert catalog.returncode == 0
    assert "diagnostics.echo" in catalog.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_printed_curl_lines_work_verbatim(local: Local) -> None:
    lines = [ln for ln in local.out.read_text().splitlines() if ln.startswith("curl ")]
    assert len(lines) == 2
    submitted = subprocess.run(
        ["bash", "-c", lines[0]], capture_output=True, text=True, timeout=30, check=True
    )
    task_id = json.loads(submitted.stdout)["id"]
    listed = subprocess.run(
        ["bash", "-c", lines[1]], capture_output=True, text=True, timeout=30, check=True
    )
    assert task_id in {item["id"] for item in json.loads(listed.stdout)["items"]}


def test_sleep_reports_increasing_progress_then_cancel_revokes_it(local: Local) -> None:
    token = local.token()
    task_id = submit(local, token, "diagnostics.sleep", {"seconds": 30, "steps": 60})
    seen: list[float] = []

    def progressed() -> bool:
        task = get_task(local, token, task_id)
        percent = (task.get("progress") or {}).get("percent")
        if percent is not None and (not seen or percent != seen[-1]):
            seen.append(float(percent))
        assert task["state"] not in FINAL, task
        return len(seen) >= 3

    wait_for(progressed, 25, "three progress reports")
    assert seen == sorted(seen)
    assert seen[0] < seen[-1] < 100

    cancelled = local.cli("cancel", task_id)
    assert cancelled.returncode == 0, cancelled.stderr
    watched = local.cli("watch", task_id, "--timeout", "20", "--interval", "0.2")
    assert watched.returncode == 1, watched.stderr  # REVOKED is not success
    assert json.loads(watched.stdout)["state"] == "REVOKED"


def test_ticker_fires_schedules_and_each_fire_runs_exactly_once(local: Local) -> None:
    fired_line = re.compile(rf"\[ticker\] fired {re.escape(HEARTBEAT)} .* result=(\{{.*\}})$")

    def fired_ids() -> list[str]:
        found = []
        for line in local.logs().splitlines():
            match = fired_line.search(line)
            if match:
                found.append(json.loads(match.group(1))["id"])
        return found

    wait_for(lambda: len(fired_ids()) >= 2, 20, "two ticks")
    system = local.token(scopes.TASKS_READ, scopes.ADMIN, tenant="system")
    manual = local.cli("--token", system, "fire", HEARTBEAT)
    assert manual.returncode == 0, manual.stderr
    manual_id = json.loads(manual.stdout)["id"]

    before = fired_ids()
    for task_id in [*before, manual_id]:
        done = wait_final(local, system, task_id)
        assert (done["state"], done["attempts"]) == ("SUCCESS", 1)

    listed: list[str] = []
    cursor = None
    while True:
        params = {"task": SCHEDULES[HEARTBEAT][1].name, "limit": "100"}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(
            f"{local.url}/v1/tasks",
            params=params,
            headers={"authorization": f"Bearer {system}"},
            timeout=10,
        ).json()
        listed += [item["id"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    # One task per fire: nothing enqueued twice, nothing enqueued without a fire. (A tick's
    # log line may reach the log a moment after its task is listed, hence the short wait.)
    assert len(listed) == len(set(listed))
    assert set(before) | {manual_id} <= set(listed)
    wait_for(lambda: set(listed) <= set(fired_ids()) | {manual_id}, 5, "a fire for every task")


def test_no_token_is_401_and_missing_scope_is_403(local: Local) -> None:
    body = {"task": "diagnostics.echo", "args": {"message": "x"}}
    no_token = httpx.post(f"{local.url}/v1/tasks", json=body, timeout=10)
    assert (no_token.status_code, no_token.json()) == (401, {"message": "Unauthorized"})
    reader = local.token(scopes.TASKS_READ)
    denied = httpx.post(
        f"{local.url}/v1/tasks",
        json=body,
        headers={"authorization": f"Bearer {reader}"},
        timeout=10,
    )
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    via_cli = local.cli("--token", reader, "submit", "diagnostics.echo", "--arg", "message=x")
    assert via_cli.returncode == 3
    assert "Forbidden" in via_cli.stderr


def test_email_task_lands_in_the_outbox(local: Local) -> None:
    # API -> notifications worker -> SES (moto, sender verified at start) -> taskport outbox.
    sent = local.cli(
        "submit", "notifications.send_email",
        "--json", '{"to": ["someone@example.com"], "subject": "outbox check", "text": "hi"}',
        "--watch", "--timeout", "30",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message_id = json.loads(sent.stdout)["result"]["message_id"]
    done = local.cli("outbox")
    assert done.returncode == 0, done.stderr
    assert f"--- {message_id}" in done.stdout
    assert "Subject: outbox check" in done.stdout
    assert "To: someone@example.com" in done.stdout


def test_schemathesis_finds_no_server_error_and_no_schema_violation(local: Local) -> None:
    token = local.token()
    st = Path(sys.executable).with_name("st")
    argv = [
        str(st), "run", f"{local.url}/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--max-examples", "10",
        "--max-time", "30",
        "--request-timeout", "10",
        "--workers", "1",
        "--seed", "20261124",
        "--no-color",
    ]  # fmt: skip
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=local.out.parent,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def _group_members(pgids: set[int]) -> dict[int, int]:
    """Live (non-zombie) processes whose process group is one of ``pgids``: pid -> pgid."""
    members = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp in pgids and state != "Z":
            members[int(entry.name)] = pgrp
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigint_stops_everything_leaving_no_process(local: Local) -> None:
    pids = {name: int(pid) for name, pid in local.ready["pids"].items()}
    groups = set(pids.values())
    before = _group_members(groups)
    # The workers' prefork children live in the workers' groups: they must exist to be checked.
    prefork = sum(q.concurrency for q in QUEUES.values() if q.pool == "prefork")
    assert len(before) >= len(pids) + prefork

    local.process.send_signal(signal.SIGINT)
    assert local.process.wait(60) == 0

    assert _group_members(groups) == {}
    for pid in before:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])
        ), f"pid {pid} survived"
    assert not (Path(local.env[ENV_STATE_DIR]) / STATE_FILE).exists()
    assert "taskport local: stopped" in local.logs()
