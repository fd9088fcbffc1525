"""Request and response models of the public API (they drive validation and OpenAPI).

All are ``LazyModel``s: a schema is built when a request first needs it, not at import.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, create_model

from workers import catalog
from workers.contract import records
from workers.contract.lazy_model import LazyModel

TaskState = Literal["PENDING", "STARTED", "PROGRESS", "RETRY", "SUCCESS", "FAILURE", "REVOKED"]
assert set(TaskState.__args__) == set(records.STATES)  # type: ignore[attr-defined]

MAX_BATCH = 100


class _Request(LazyModel):
    model_config = ConfigDict(extra="forbid")


class _SubmitBase(_Request):
    countdown: float | None = Field(
        default=None,
        ge=0,
        description="Seconds to wait before running; capped below the visibility timeout.",
    )


def _submit_model(spec: catalog.TaskSpec) -> type[_SubmitBase]:
    slug = "".join(part.title() for part in spec.name.replace(".", "_").split("_"))
    task_name: Any = Literal[spec.name]  # a Literal built from data
    model: type[_SubmitBase] = create_model(
        f"Submit{slug}",
        __base__=_SubmitBase,
        __doc__=spec.description,
        task=(task_name, Field(description="Catalog task name.")),
        args=(spec.args_model, Field(description="The task's arguments (its kwargs).")),
    )
    return model


@cache
def submit_request_type() -> Any:
    """The POST /v1/tasks body: a oneOf over catalog tasks discriminated by ``task``."""
    members = tuple(_submit_model(spec) for spec in catalog.submittable())
    return Annotated[Union[members], Field(discriminator="task")]  # noqa: UP007


class Links(LazyModel):
    self: str
    cancel: str


class SubmitResponse(LazyModel):
    id: str
    task: str
    state: TaskState
    links: Links


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
