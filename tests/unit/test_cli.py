"""The ``taskport`` CLI against a fake API (a real HTTP server answering scripted replies)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.local import cli, state, tokens
from infra.local.api_client import parse_error
from infra.local.redis_server import free_port
from workers.contract import scopes


class FakeApi:
    """Answers each (method, path) with a scripted list of (status, body); records requests."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def script(self, method: str, path: str, *replies: tuple[int, Any]) -> None:
        self.replies[(method, path)] = list(replies)

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        queue = self.replies.get((method, path)) or [(404, {"error": {"code": "not_found"}})]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            fake.requests.append((self.command, self.path, dict(self.headers.items()), body))
            status, reply = fake.answer(self.command, self.path.partition("?")[0])
            data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(state.ENV_STATE_DIR, str(tmp_path))
    for name in (cli.ENV_API_URL, cli.ENV_TOKEN):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_token_prints_only_a_token_the_gateway_accepts(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tokens.SigningKey.generate()
    key.save(tokens.key_path(state_dir))
    code, out, _ = run(capsys, "token", "--tenant", "acme", "--scope", "tasks:read")
    assert code == 0
    assert out.count("\n") == 1
    claims = tokens.verify(key.public_pem, out.strip())
    assert claims["tenant"] == "acme"
    assert claims["scope"] == scopes.DEFAULT_PREFIX + scopes.TASKS_READ


def test_token_defaults_to_tenant_local_with_every_scope(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tokens.SigningKey.generate()
    key.save(tokens.key_path(state_dir))
    code, out, _ = run(capsys, "token")
    claims = tokens.verify(key.public_pem, out.strip())
    assert code == 0
    assert claims["tenant"] == "local"
    assert set(claims["scope"].split()) == {scopes.DEFAULT_PREFIX + s for s in scopes.ALL}


def test_token_without_local_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "token")
    assert code == 2
    assert out == ""
    assert "taskport local" in err


def test_key_file_is_private(state_dir: Path) -> None:
    path = tokens.SigningKey.generate().save(tokens.key_path(state_dir))
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("message=hello", ("message", "hello")),
        ("seconds=2.5", ("seconds", 2.5)),
        ("steps=3", ("steps", 3)),
        ("retryable=true", ("retryable", True)),
        ('message="123"', ("message", "123")),
        ("message=a=b", ("message", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_arg_values_are_json_when_they_parse(item: str, expected: tuple[str, Any]) -> None:
    assert cli.parse_arg(item) == expected


def test_submit_sends_args_and_idempotency_key(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("POST", "/v1/tasks", (202, {"id": "t1", "task": "diagnostics.sleep"}))
    code, out, _ = run(
        capsys,
        "--api-url", url, "--token", "tok",
        "submit", "diagnostics.sleep", "--arg", "seconds=1", "--arg", "steps=2",
        "--idempotency-key", "k1",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["id"] == "t1"
    _, _, headers, body = fake.requests[-1]
    assert json.loads(body) == {"task": "diagnostics.sleep", "args": {"seconds": 1, "steps": 2}}
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["authorization"] == "Bearer tok"
    assert lowered["idempotency-key"] == "k1"


def test_connection_options_work_after_the_subcommand(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("GET", "/v1/tasks/t1", (200, {"id": "t1", "state": "PENDING"}))
    code, out, _ = run(capsys, "status", "t1", "--api-url", url, "--token", "tok")
    assert (code, json.loads(out)["state"]) == (0, "PENDING")


def test_submit_json_object(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("POST", "/v1/tasks", (202, {"id": "t2"}))
    code, _, _ = run(
        capsys, "--api-url", url, "submit", "diagnostics.echo", "--json", '{"message": "hi"}'
    )
    assert code == 0
    assert json.loads(fake.requests[-1][3])["args"] == {"message": "hi"}


@pytest.mark.parametrize(
    "argv",
    [
        ["submit", "x", "--arg", "novalue"],
        ["submit", "x", "--json", "[1]"],
        ["submit", "x", "--json", "{bad"],
        ["submit", "x", "--arg", "a=1", "--json", "{}"],
    ],
)
def test_usage_errors_exit_2_without_calling_the_api(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    fake, url = fake_api
    code, _, err = run(capsys, "--api-url", url, *argv)
    assert code == 2
    assert "taskport:" in err
    assert fake.requests == []


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["frobnicate"])
    assert exited.value.code == 2


def test_taskport_error_shape_exits_3_with_details(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    error = {
        "error": {
            "code": "validation_error",
            "message": "invalid args",
            "details": [{"loc": ["body", "args", "seconds"], "msg": "too big"}],
        }
    }
    fake.script("POST", "/v1/tasks", (400, error))
    code, out, err = run(
        capsys, "--api-url", url, "submit", "diagnostics.sleep", "--arg", "seconds=99"
    )
    assert code == 3
    assert out == ""
    assert "HTTP 400, validation_error" in err
    assert "invalid args" in err
    assert "too big" in err


def test_api_gateway_error_shape_exits_3(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("GET", "/v1/catalog", (403, {"message": "Forbidden"}))
    code, _, err = run(capsys, "--api-url", url, "--token", "t", "catalog")
    assert code == 3
    assert "HTTP 403" in err
    assert "Forbidden" in err


def test_server_error_exits_4(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("GET", "/v1/tasks/x", (503, {"error": {"code": "unavailable", "message": "down"}}))
    code, _, err = run(capsys, "--api-url", url, "status", "x")
    assert code == 4
    assert "unavailable" in err


def test_unreachable_api_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--api-url", f"http://127.0.0.1:{free_port()}", "status", "x")
    assert code == 4
    assert "cannot reach" in err


def test_401_without_token_hints_at_local_mode(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("GET", "/v1/tasks/x", (401, {"message": "Unauthorized"}))
    code, _, err = run(capsys, "--api-url", url, "status", "x")
    assert code == 3
    assert "hint:" in err


@pytest.mark.parametrize(("final", "code"), [("SUCCESS", 0), ("FAILURE", 1), ("REVOKED", 1)])
def test_watch_follows_progress_until_a_final_state(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str], final: str, code: int
) -> None:
    fake, url = fake_api
    fake.script(
        "GET",
        "/v1/tasks/t9",
        (200, {"id": "t9", "state": "STARTED", "progress": None}),
        (200, {"id": "t9", "state": "PROGRESS", "progress": {"percent": 40, "message": "2/5"}}),
        (200, {"id": "t9", "state": final, "progress": {"percent": 40, "message": "2/5"}}),
    )
    exit_code, out, err = run(capsys, "--api-url", url, "watch", "t9", "--interval", "0.01")
    assert exit_code == code
    assert json.loads(out)["state"] == final
    assert "40.0%" in err
    assert final in err


def test_fire_posts_to_the_schedule(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    fake.script("POST", "/v1/schedules/diagnostics.heartbeat/fire", (202, {"id": "s1"}))
    code, out, _ = run(capsys, "--api-url", url, "fire", "diagnostics.heartbeat")
    assert (code, json.loads(out)["id"]) == (0, "s1")


def test_catalog_lists_tasks_and_schedules(
    fake_api: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    catalog = {
        "tasks": [
            {
                "name": "diagnostics.echo",
                "queue": "default",
                "description": "Echo",
                "schedules": [{"name": "diagnostics.heartbeat", "expression": "rate(5 minutes)"}],
            }
        ]
    }
    fake.script("GET", "/v1/catalog", (200, catalog))
    code, out, _ = run(capsys, "--api-url", url, "catalog")
    assert code == 0
    assert "diagnostics.echo" in out
    assert "diagnostics.heartbeat rate(5 minutes)" in out


def test_api_url_defaults_to_the_running_local_mode(
    fake_api: tuple[FakeApi, str], state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake, url = fake_api
    key = tokens.SigningKey.generate()
    key.save(tokens.key_path(state_dir))
    state.write_state(state.LocalState(url=url, redis_url="redis://x", moto_url="http://x"))
    fake.script("GET", "/v1/tasks/t1", (200, {"id": "t1", "state": "SUCCESS"}))
    code, _, _ = run(capsys, "status", "t1")
    assert code == 0
    # ... and with a fresh local token for tenant "local".
    auth = {k.lower(): v for k, v in fake.requests[-1][2].items()}["authorization"]
    assert tokens.verify(key.public_pem, auth.removeprefix("Bearer "))["tenant"] == "local"


def test_parse_error_handles_non_json() -> None:
    error = parse_error(502, "<html>Bad Gateway</html>")
    assert (error.status, error.exit_code) == (502, 4)
    assert "Bad Gateway" in str(error)
