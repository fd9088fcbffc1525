"""One webhook delivery attempt and what its answer means (no Celery here)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from workers.contract import ssrf
from workers.notifications.webhooks import network, resolver_gate

DELIVERED = "delivered"
RETRY = "retry"
FAILED = "failed"
GONE = "gone"
BLOCKED = "blocked"

_RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Result:
    outcome: str
    status: int | None
    latency_ms: float
    error: str | None = None
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def classify(status: int) -> tuple[str, str | None]:
    if 200 <= status < 300:
        return DELIVERED, None
    if status == 410:
        return GONE, "410 Gone: endpoint disabled"
    if status in _RETRY_STATUSES or status >= 500:
        return RETRY, f"HTTP {status}"
    if 300 <= status < 400:
        return FAILED, f"HTTP {status}: redirects are not followed"
    return FAILED, f"HTTP {status}"


def attempt(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    deadline_seconds: float,
    max_response_bytes: int,
    tenant: str | None = None,
) -> Result:
    """POST once within the deadline; the response body is read up to a small cap.

    Name lookups count against ``tenant``'s share of the resolver threads."""
    start = time.monotonic()

    def elapsed() -> float:
        return round((time.monotonic() - start) * 1000, 1)

    try:
        with network.deadline(deadline_seconds), resolver_gate.on_behalf_of(tenant):
            request_headers = {**headers, "content-type": "application/json"}
            with client.stream("POST", url, content=body, headers=request_headers) as response:
                read = 0
                for chunk in response.iter_raw():
                    read += len(chunk)
                    if read >= max_response_bytes:
                        break
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("retry-after"))
    except ssrf.UnsafeWebhookURL as exc:
        return Result(BLOCKED, None, elapsed(), f"blocked: {exc}")
    except httpx.TimeoutException as exc:
        return Result(RETRY, None, elapsed(), f"timeout: {exc or type(exc).__name__}"[:200])
    except httpx.TransportError as exc:
        return Result(RETRY, None, elapsed(), f"{type(exc).__name__}: {exc}"[:200])
    outcome, error = classify(status)
    return Result(outcome, status, elapsed(), error, retry_after)


def next_delay(
    schedule: Sequence[float],
    failed_attempts: int,
    retry_after: float | None,
    retry_after_cap: float,
    rand: float | None = None,
) -> float | None:
    """Seconds before the next attempt (None: schedule exhausted).

    ``failed_attempts`` counts the failures so far (>= 1). Jitter adds up to 20 % so many
    failures at once do not come back together; a capped ``Retry-After`` is a floor.
    """
    index = failed_attempts - 1
    if index >= len(schedule):
        return None
    rand = random.random() if rand is None else rand  # noqa: S311 - jitter, not crypto
    delay = schedule[index] * (1 + 0.2 * rand)
    if retry_after is not None:
        delay = max(delay, min(retry_after, retry_after_cap))
    return delay
