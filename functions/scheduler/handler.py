"""EventBridge schedule deliveries (replacing celery beat).

Each rule's input transformer sends ``{"schedule", "time", "event_id"}``. Duplicate
deliveries enqueue once. An unknown schedule is logged and dropped (raising would make
EventBridge retry a delivery that can never succeed); a Redis outage raises so the
rule's retry policy and DLQ keep the fire.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, ValidationError

from functions.scheduler.firing import UnknownSchedule, fire

logger = Logger(service="taskport-scheduler")


class ScheduleEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schedule: str
    time: str
    event_id: str


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        parsed = ScheduleEvent.model_validate(event)
    except ValidationError as exc:
        logger.error(
            "malformed schedule event",
            extra={"errors": exc.errors(include_input=False, include_url=False)},
        )
        return {"status": "rejected", "reason": "malformed event"}
    try:
        fired = fire(parsed.schedule, time=parsed.time, event_id=parsed.event_id)
    except UnknownSchedule:
        logger.error("unknown schedule; nothing enqueued", extra={"schedule": parsed.schedule})
        return {"status": "unknown_schedule", "schedule": parsed.schedule}
    logger.info(
        "schedule fired",
        extra={"schedule": fired.schedule, "task_id": fired.task_id, "duplicate": fired.duplicate},
    )
    return {
        "status": "duplicate" if fired.duplicate else "enqueued",
        "schedule": fired.schedule,
        "task": fired.task,
        "id": fired.task_id,
    }
