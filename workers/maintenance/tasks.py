"""Maintenance tasks run by catalog schedules (tenant ``system``)."""

from __future__ import annotations

from typing import Any

from workers.app import app
from workers.maintenance import retry_schedule
from workers.state_store import state_client
from workers.tasking import TaskportTask, catalog_task


@catalog_task(app, "maintenance.sweep_retries")
def sweep_retries(self: TaskportTask, limit: int) -> dict[str, Any]:
    moved = retry_schedule.sweep(state_client(), limit=limit)
    return {"moved": moved, "pending": retry_schedule.pending(state_client())}
