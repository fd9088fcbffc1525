"""The seeds' naive webhook task, the baseline of bench/webhooks.py (not used by taskport).

A new ``httpx.Client`` per request (building an SSL context each time, even for plain
http), Celery's default configuration, run with a prefork pool of 2:
``celery -A bench.naive_webhooks worker -P prefork -c 2``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import httpx
from celery import Celery

app = Celery(
    "naive",
    broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
)
QUEUE = "naive"
TASK = "naive.send_webhook"
app.conf.task_default_queue = QUEUE


@app.task(name=TASK)
def send_webhook(url: str, secret: str, payload: dict[str, Any]) -> int:
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    with httpx.Client(timeout=15) as client:
        response = client.post(
            url, content=body, headers={"x-signature": signature.hexdigest(), "x-ts": stamp}
        )
    return response.status_code
