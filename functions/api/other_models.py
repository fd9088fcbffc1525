"""Response models of every route except POST /v1/tasks (they drive OpenAPI).

Imported with ``functions.api.other_routes``, so a cold submit does not create them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from functions.api.models import Links, TaskState
from workers.contract.lazy_model import LazyModel


class BatchItemResult(LazyModel):
    index: int
    id: str | None = None
    task: str | None = None
    state: TaskState | None = None
    links: Links | None = None
    error: dict[str, Any] | None = Field(default=None, description="Same shape as error.")


class BatchResponse(LazyModel):
    items: list[BatchItemResult]
    accepted: int
    rejected: int


class Progress(LazyModel):
    percent: float
    message: str


class TaskError(LazyModel):
    type: str
    message: str


class TaskView(LazyModel):
    id: str
    task: str
    queue: str
    state: TaskState
    progress: Progress | None = None
    result: Any = None
    error: TaskError | None = None
    submitted: str | None = None
    started: str | None = None
    finished: str | None = None
    attempts: int = 0


class TaskSummary(LazyModel):
    id: str
    task: str
    state: TaskState
    submitted: str | None = None
    finished: str | None = None


class TaskPage(LazyModel):
    items: list[TaskSummary]
    next_cursor: str | None = None


class ScheduleView(LazyModel):
    name: str
    expression: str
    args: dict[str, Any]
    description: str


class CatalogTask(LazyModel):
    name: str
    queue: str
    description: str
    scope: str
    args_schema: dict[str, Any]
    schedules: list[ScheduleView]
    soft_time_limit: float
    time_limit: float


class CatalogResponse(LazyModel):
    tasks: list[CatalogTask]


class FireResponse(LazyModel):
    schedule: str
    id: str
    task: str
    state: TaskState
    duplicate: bool


class Health(LazyModel):
    status: Literal["ok"]


class CancelResponse(LazyModel):
    id: str
    state: TaskState
