"""The plain contender of bench/webhooks.py: the usual fix of the naive code, with nothing
of taskport's.

Celery with taskport's delivery-relevant settings (JSON, acks_late, prefetch 1, a Redis
result backend) and one shared ``httpx.Client`` per process posting the body as is: no
endpoint lookup, signing, SSRF guard, per-endpoint cap, attempt record, effect ledger or
task record. It does get taskport's fix for kombu's 2 s fetch stalls under a green pool
(``workers/notifications/green_polling.py``): without it plain Celery delivers ~25/s here.
Run with the notifications pool: ``celery -A bench.plain_webhooks worker -P gevent -c 50``.
Not used by taskport.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import httpx
from celery import Celery, signals

from workers.notifications import green_polling

app = Celery(
    "plain",
    broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
)
QUEUE = "plain"
TASK = "plain.post"
app.conf.update(
    task_default_queue=QUEUE,
    accept_content=["json"],
    task_serializer="json",
    result_serializer="json",
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    result_backend_thread_safe=True,
    broker_transport_options={"max_connections": 120},
)


@signals.worker_init.connect
def _install_green_polling(**_: Any) -> None:
    green_polling.install()


@cache
def client() -> httpx.Client:
    return httpx.Client(timeout=15, limits=httpx.Limits(max_connections=100), trust_env=False)


@app.task(name=TASK)
def post(url: str, payload: dict[str, Any]) -> int:
    return client().post(url, json=payload).status_code
