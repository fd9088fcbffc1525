"""Build a Celery (task protocol 2) message as kombu's Redis transport stores it.

Lambdas enqueue by name without importing celery or kombu: the message is the same JSON
envelope ``app.send_task(name, kwargs=..., queue=..., headers=...)`` pushes with ``LPUSH``
onto the queue's list (priority 0 uses the bare queue name), so it can be written in the
same Redis round trip as the ownership record. A functional test compares it field by field
with what Celery itself produces and a real worker runs it.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from workers.contract.headers import ENQUEUED_AT_HEADER

# Protocol 2 body: [args, kwargs, embed]; taskport tasks take kwargs only (DESIGN 2a).
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


@lru_cache(maxsize=1)
def _origin() -> str:
    return f"gen{os.getpid()}@{socket.gethostname()}"


def new_task_id() -> str:
    return str(uuid.uuid4())


def queue_list_key(queue: str) -> str:
    """The Redis list kombu consumes for ``queue`` at priority 0."""
    return queue


def build_envelope(
    *,
    task_name: str,
    task_id: str,
    queue: str,
    kwargs: Mapping[str, Any],
    headers: Mapping[str, str],
    countdown: float | None = None,
    now: datetime | None = None,
) -> str:
    """The serialized envelope to ``LPUSH`` onto ``queue_list_key(queue)``."""
    eta = None
    if countdown:
        eta = ((now or datetime.now(UTC)) + timedelta(seconds=countdown)).isoformat()
    body = json.dumps([[], dict(kwargs), _EMBED], separators=(",", ":"))
    message_headers: dict[str, Any] = {
        "lang": "py",
        "task": task_name,
        "id": task_id,
        "shadow": None,
        "eta": eta,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": "()",
        # Celery logs this; keep it short so a big payload is not logged by every worker.
        "kwargsrepr": "{...}",
        "origin": _origin(),
        "ignore_result": False,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
        ENQUEUED_AT_HEADER: time.time(),
    }
    message_headers.update(headers)
    envelope = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": message_headers,
        "properties": {
            "correlation_id": task_id,
            "reply_to": str(uuid.uuid4()),
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(envelope, separators=(",", ":"))
