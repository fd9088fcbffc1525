"""Test-only seam: SES error responses injected into a worker subprocess.

Enabled only by ``TASKPORT_TEST_SES_FAULTS=1`` with ``TASKPORT_ENV=test`` (the settings
refuse it elsewhere). Each SendEmail call pops one error code from a Redis list (tests
push them); an empty list lets the call through to moto. In-process tests register the
same hook on their own client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from workers.contract import keys

STATUS = {
    "TooManyRequestsException": 429,
    "NotFoundException": 404,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def error_response(code: str) -> Any:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"message": f"injected {code}"}).encode()
    headers = {"x-amzn-ErrorType": f"{code}:", "Content-Type": "application/json"}
    return AWSResponse("https://email.test/", STATUS.get(code, 400), cast(Any, headers), _Raw(body))


def hook(next_fault: Callable[[], str | None]) -> Callable[..., Any]:
    def before_send(**_: Any) -> Any:
        code = next_fault()
        return error_response(code) if code else None

    return before_send


def install(ses: Any, redis_client: Any) -> None:
    """Pop faults from the Redis list for every SendEmail of ``ses``."""
    ses.meta.events.register_first(
        "before-send.sesv2.SendEmail", hook(lambda: redis_client.lpop(keys.TEST_SES_FAULTS))
    )
