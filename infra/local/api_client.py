"""The CLI's HTTP side: one request, both error shapes, exit codes a shell user expects.

taskport answers errors as ``{"error": {"code", "message", "details"}}``; API Gateway's
authorizer (and the local gateway) as ``{"message": "Unauthorized"}``. Both become an
``ApiError`` with a one-line message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

EXIT_OK: Final = 0
EXIT_TASK_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_CLIENT_ERROR: Final = 3
EXIT_SERVER_ERROR: Final = 4


@dataclass
class ApiError(Exception):
    status: int  # 0: the API could not be reached
    message: str
    code: str | None = None
    details: list[Any] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CLIENT_ERROR if 400 <= self.status < 500 else EXIT_SERVER_ERROR

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "unreachable"
        head = f"error ({where}{', ' + self.code if self.code else ''}): {self.message}"
        lines = [head]
        for detail in self.details:
            lines.append("  - " + (json.dumps(detail) if not isinstance(detail, str) else detail))
        return "\n".join(lines)


def parse_error(status: int, text: str) -> ApiError:
    try:
        body = json.loads(text)
    except ValueError:
        return ApiError(status, text.strip()[:500] or "(empty body)")
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        details = err.get("details") or []
        return ApiError(
            status,
            str(err.get("message", "")),
            code=str(err["code"]) if err.get("code") else None,
            details=details if isinstance(details, list) else [details],
        )
    if isinstance(body, dict) and "message" in body:
        return ApiError(status, str(body["message"]))
    return ApiError(status, text.strip()[:500])


class ApiClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 15.0) -> None:
        headers = {"user-agent": "taskport-cli"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        try:
            answer = self._http.request(
                method, path, json=json_body, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ApiError(0, f"cannot reach {self.base_url}: {exc}") from None
        if answer.status_code >= 400:
            raise parse_error(answer.status_code, answer.text)
        if not answer.content:
            return None
        try:
            return answer.json()
        except ValueError:
            return answer.text
