"""Redis refused or hung, in a warm or a fresh process: 503 with a reason, never a 500."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.redis_server import RedisServer, free_port
from tests.functional.conftest import ApiClient, reset_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    server = RedisServer().start()
    monkeypatch.setenv("REDIS_URL", server.url)
    reset_settings()
    yield server
    if server.process is not None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()
    reset_settings()


def assert_unavailable(response) -> None:
    assert response.status == 503
    assert response.body["error"]["code"] == "service_unavailable"
    assert "unavailable" in response.body["error"]["message"]


def test_redis_stopped_in_a_warm_process_is_503(own_redis: RedisServer) -> None:
    api = ApiClient()
    task_id = api.submit("diagnostics.echo", {"message": "warm"}).body["id"]
    own_redis.stop()

    assert_unavailable(api.submit("diagnostics.echo", {"message": "after stop"}))
    assert_unavailable(api.call("GET", f"/v1/tasks/{task_id}"))
    assert_unavailable(api.call("POST", f"/v1/tasks/{task_id}/cancel"))
    assert_unavailable(api.call("GET", "/v1/tasks"))
    # Routes that need no Redis keep answering.
    assert api.call("GET", "/v1/health").status == 200


def test_hung_redis_is_503_not_a_hang(own_redis: RedisServer) -> None:
    api = ApiClient()
    assert api.submit("diagnostics.echo", {"message": "warm"}).status == 202
    assert own_redis.process is not None
    os.kill(own_redis.process.pid, signal.SIGSTOP)  # accepts TCP, never answers
    try:
        assert_unavailable(api.submit("diagnostics.echo", {"message": "hung"}))
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)


FRESH = """
import json, sys
sys.path.insert(0, {root!r})
from tests.functional.conftest import ApiClient
r = ApiClient().submit("diagnostics.echo", {{"message": "fresh"}})
print(json.dumps({{"status": r.status, "body": r.body}}))
"""


def test_redis_refused_in_a_fresh_process_is_503() -> None:
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    out = subprocess.run(
        [sys.executable, "-c", FRESH.format(root=str(ROOT))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["error"]["code"] == "service_unavailable"
    assert "Traceback" not in out.stdout
