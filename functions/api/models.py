"""Models of POST /v1/tasks, the cold-start path (they drive validation and OpenAPI).

All are ``LazyModel``s: a schema is built when a request first needs it, not at import.
The other routes' models are in ``functions.api.other_models``, imported with those routes.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import (
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    create_model,
)
from pydantic_core import core_schema

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


_SUBMITTABLE = frozenset(spec.name for spec in catalog.submittable())


@cache
def _member(task: str) -> type[_SubmitBase]:
    return _submit_model(catalog.TASKS[task])


@cache
def _union() -> TypeAdapter[Any]:
    """The body as one discriminated union: every task's schema, built at once."""
    members = tuple(_member(spec.name) for spec in catalog.submittable())
    body: Any = Annotated[Union[members], Field(discriminator="task")]  # noqa: UP007
    return TypeAdapter(body)


def _validate_submit(value: Any) -> Any:
    # A known task name picks its own model, whose schema is built on first use: a cold
    # start validates one task's arguments, not every task's. Anything else goes through
    # the whole union, which answers exactly as a discriminated union does (unknown or
    # missing task). The union's error paths also name the task, which the 400 omits,
    # so both routes give the same details. ``from_attributes`` as Powertools validates.
    task = value.get("task") if isinstance(value, dict) else None
    if isinstance(task, str) and task in _SUBMITTABLE:
        return _member(task).model_validate(value, from_attributes=True)
    return _union().validate_python(value, from_attributes=True)


def _submit_json_schema(_: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
    # The documented body is the union itself (a oneOf discriminated by ``task``).
    return handler(_union().core_schema)


class SubmitBody:
    """The POST /v1/tasks body: a oneOf over catalog tasks discriminated by ``task``."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate_submit, metadata={"pydantic_js_functions": [_submit_json_schema]}
        )


def submit_request_type() -> Any:
    """The POST /v1/tasks body type (validation and OpenAPI)."""
    return SubmitBody


class Links(LazyModel):
    self: str
    cancel: str


class SubmitResponse(LazyModel):
    id: str
    task: str
    state: TaskState
    links: Links
