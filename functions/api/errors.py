"""taskport's error shape: ``{"error": {"code", "message", "details"}}`` (DESIGN 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import Field, RootModel

from workers.contract.lazy_model import LAZY_CONFIG, LazyModel

RootT = TypeVar("RootT")


class ErrorDetail(LazyModel):
    loc: list[str | int] = Field(default_factory=list, description="Where: body/query/path path.")
    msg: str
    type: str = "invalid"


class ErrorBody(LazyModel):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(LazyModel):
    error: ErrorBody


class GatewayMessage(LazyModel):
    """API Gateway's own answers (401/403 from the JWT authorizer, 413 over 10 MB)."""

    message: str


class _LazyRoot(RootModel[RootT], Generic[RootT]):
    # RootModel[X] would build X's schema at import; a lazy generic base defers it too.
    model_config = LAZY_CONFIG


class AnyError(_LazyRoot[ErrorResponse | GatewayMessage]):
    """Where API Gateway may answer before taskport does, either shape can arrive."""


class ApiError(Exception):
    """Raise anywhere in a route; the app turns it into the error shape with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def not_found(what: str = "task") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def service_unavailable(reason: str) -> ApiError:
    return ApiError(503, "service_unavailable", reason)
