"""The cold-start floor: only the parts taskport's API is required to use, nothing of its own.

Powertools' HTTP resolver with ``enable_validation=True``, one pydantic body model, and
redis-py sending a prebuilt message with one EVALSHA (an LPUSH script, as taskport's
submit is one script call). Its first 202 is what those libraries cost together, so the
cold-start benchmark can show how far taskport is above it. Not a usable API: it checks
no identity, validates no task arguments and pushes the same message every time.
"""

from __future__ import annotations

import json
import os
import uuid
from functools import cache
from typing import Annotated, Any

import redis
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict

app = APIGatewayHttpResolver(enable_validation=True)

# A bench-only list: nothing consumes it, and no worker would mistake it for a queue.
QUEUE_KEY = "bench:floor:queue"
PUSH = "return redis.call('LPUSH', KEYS[1], ARGV[1])"
MESSAGE = json.dumps({"body": "W1tdLCB7fSwge31d", "headers": {"task": "bench.floor"}})


class Submit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str
    args: dict[str, Any]


@cache
def _push() -> Any:
    # Created on first use, like taskport's client (no connection at import time).
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return client.register_script(PUSH)


@app.post("/v1/tasks")
def submit(body: Annotated[Submit, Body()]) -> tuple[dict[str, Any], int]:
    _push()(keys=[QUEUE_KEY], args=[MESSAGE])
    return {"id": str(uuid.uuid4()), "task": body.task, "state": "PENDING"}, 202


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
