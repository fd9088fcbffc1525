"""The naive Lambda the cold-start benchmark compares against (the usual first attempt):
Powertools resolver + a Celery app built at import + pydantic validation + send_task."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from celery import Celery
from pydantic import BaseModel

app = APIGatewayHttpResolver()
celery_app = Celery(
    "naive", broker=os.environ["REDIS_URL"], backend=os.environ.get("NAIVE_BACKEND") or None
)


class Submit(BaseModel):
    task: str
    args: dict[str, Any]


@app.post("/v1/tasks")
def submit() -> tuple[dict[str, Any], int]:
    body = Submit.model_validate(app.current_event.json_body)
    result = celery_app.send_task(body.task, kwargs=body.args, queue="default")
    return {"id": result.id, "state": "PENDING"}, 202


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
