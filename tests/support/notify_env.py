"""Real parts for the notification tests: moto's server, a recording HTTP receiver on
127.0.0.1, a notifications worker with the catalog's pool, and a submit/wait helper.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from infra.local.redis_server import free_port
from tests.support.polling import wait_for
from tests.support.workers import WorkerProcess
from workers import catalog
from workers.contract import headers as header_names
from workers.contract import keys, message, table
from workers.contract import settings as names

REGION = "us-east-1"
KMS_ALIAS = "alias/taskport-test"
SENDER = "sender@example.com"


# ---------------------------------------------------------------- moto


@dataclass
class Moto:
    url: str
    table_name: str
    kms_key_id: str

    def env(self) -> dict[str, str]:
        return {
            names.ENV_AWS_ENDPOINT_URL: self.url,
            names.ENV_AWS_DEFAULT_REGION: REGION,
            names.ENV_AWS_REGION: REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            names.ENV_TABLE: self.table_name,
            names.ENV_KMS_KEY_ID: self.kms_key_id,
            names.ENV_EMAIL_FROM: SENDER,
        }

    def client(self, service: str) -> Any:
        import boto3

        factory: Any = boto3.client
        return factory(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def sent_messages(self) -> list[dict[str, Any]]:
        import httpx

        data = httpx.get(f"{self.url}/moto-api/data.json", timeout=10).json()
        messages = (data.get("ses") or {}).get("Message") or []
        if isinstance(messages, dict):  # keyed by account in some moto versions
            messages = [m for per in messages.values() for m in per]
        return list(messages)


def provision(moto_client: Callable[[str], Any], table_name: str) -> str:
    """The table, KMS key + alias and verified sender the notifications need.

    moto servers started in one process share moto's backends: names are unique per call
    and an existing sender identity is fine.
    """
    moto_client("dynamodb").create_table(TableName=table_name, **table.table_definition())
    kms = moto_client("kms")
    key_id = kms.create_key(Description="taskport test")["KeyMetadata"]["KeyId"]
    alias = f"{KMS_ALIAS}-{uuid.uuid4().hex[:6]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    sesv2 = moto_client("sesv2")
    with contextlib.suppress(sesv2.exceptions.AlreadyExistsException):
        sesv2.create_email_identity(EmailIdentity=SENDER)
    return alias


@contextmanager
def moto_server() -> Iterator[Moto]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        moto = Moto(f"http://127.0.0.1:{port}", f"taskport-{uuid.uuid4().hex[:6]}", "")
        moto.kms_key_id = provision(moto.client, moto.table_name)
        yield moto
    finally:
        server.stop()


# ---------------------------------------------------------------- receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """Records every POST; answers per path from a script (default 200)."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    delay: float = 0.0
    path_delays: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def answer(self, path: str, *responses: tuple[int, dict[str, str]]) -> None:
        with self.lock:
            self.script[path] = list(responses)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without it keep-alive clients see 40 ms stalls (Nagle + delayed ACK).
        disable_nagle_algorithm = True

        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with receiver.lock:
                receiver.requests.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        time.time(),
                    )
                )
                queued = receiver.script.get(self.path) or []
                status, extra = queued.pop(0) if queued else (200, {})
            delay = receiver.path_delays.get(self.path, receiver.delay)
            if delay:
                time.sleep(delay)
            reply = b'{"ok":true}'
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    return Handler


class _Server(ThreadingHTTPServer):
    # socketserver's listen backlog of 5 resets connections when a pool of 50+ opens at once.
    request_queue_size = 256


@contextmanager
def receiver(delay: float = 0.0) -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _handler_placeholder())
    rec = Receiver(server=server, delay=delay)
    server.RequestHandlerClass = _handler(rec)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _handler_placeholder() -> type[BaseHTTPRequestHandler]:
    return BaseHTTPRequestHandler


# ---------------------------------------------------------------- worker and tasks


class NotificationsWorker(WorkerProcess):
    """A worker on the notifications queue with the catalog's pool and concurrency."""

    def __init__(self, *args: Any, pool: str | None = None, **kwargs: Any) -> None:
        spec = catalog.QUEUES["notifications"]
        kwargs.setdefault("queues", ("notifications",))
        kwargs.setdefault("concurrency", spec.concurrency)
        super().__init__(*args, pool=pool or spec.pool, **kwargs)


def submit(client: Any, task: str, kwargs: dict[str, Any], tenant: str = "acme") -> str:
    """Enqueue like the API does (the same envelope, LPUSH onto the queue list)."""
    task_id = message.new_task_id()
    spec = catalog.TASKS[task]
    envelope = message.build_envelope(
        task_name=task,
        task_id=task_id,
        queue=spec.queue,
        kwargs=kwargs,
        headers={header_names.TENANT_HEADER: tenant},
    )
    client.lpush(message.queue_list_key(spec.queue), envelope)
    return task_id


def result(client: Any, task_id: str) -> dict[str, Any] | None:
    raw = client.get(keys.celery_meta(task_id))
    return json.loads(raw) if raw else None


def wait_result(client: Any, task_id: str, *states: str, timeout: float = 20) -> dict[str, Any]:
    states = states or ("SUCCESS", "FAILURE")

    def probe() -> dict[str, Any] | None:
        found = result(client, task_id)
        return found if found and found["status"] in states else None

    return wait_for(probe, timeout=timeout, what=f"task {task_id} in {states}")


def worker_env(moto: Moto, **extra: str) -> dict[str, str]:
    return {**moto.env(), names.ENV_ENV: "test", **extra}


def log_dir(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    return base


def set_process_env(env: dict[str, str]) -> Callable[[], None]:
    """Point this process (in-process handlers and stores) at the same moto; undo fn."""
    from workers.contract import aws_clients
    from workers.contract.notify_settings import notify_settings
    from workers.contract.settings import core_settings

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)

    def reset() -> None:
        aws_clients.reset()
        notify_settings.cache_clear()
        core_settings.cache_clear()

    reset()

    def undo() -> None:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset()

    return undo
