"""``notifications.send_email``: ledger, suppression, global rate, SES, retry decisions."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from workers.contract import keys
from workers.contract.notify_settings import notify_settings
from workers.contract.settings import core_settings
from workers.notifications import alerts, clients, email_sending, ledger, retrying
from workers.notifications.errors import (
    EmailQuotaExceeded,
    SendingDisabled,
    TransientEmailError,
)
from workers.notifications.ratelimit import TokenBucket
from workers.state_store import state_client

EFFECT = "email"
# Waits this short are reserved and slept in the task; longer ones free the slot.
_SLEEP_WAIT_MAX = 0.25
_QUOTA_RETRIES_MAX = 48


class EmailRetriesExhausted(RuntimeError):
    """SES kept throttling or failing transiently past the retry policy."""


def run(task: Any, args: Mapping[str, Any]) -> dict[str, Any]:
    settings = notify_settings()
    redis = state_client()
    task_id = task.request.id
    done = ledger.recorded(redis, task_id, EFFECT)
    if done is not None:
        return {**done, "replayed": True}
    tenant = task.tenant
    # Clients before tokens: a reserved slot must not be spent building a client.
    ses, dynamodb = clients.ses(), clients.dynamodb()
    # Tokens first, for every listed recipient: a task that must wait costs no DynamoDB
    # read, and charging suppressed recipients too only keeps the rate on the safe side.
    listed = len(args["to"]) + len(args.get("cc") or []) + len(args.get("bcc") or [])
    bucket = TokenBucket(
        redis, keys.SES_RATE_BUCKET, rate=settings.ses_max_send_rate, burst=settings.burst
    )
    wait, reserved = bucket.take(listed, max_wait=_SLEEP_WAIT_MAX)
    if not reserved:
        # Not an attempt: the slot is freed and the message comes back when tokens do.
        jitter = random.uniform(0, 0.1 * wait)  # noqa: S311
        retrying.again(task, delay=wait + jitter, counts_as_attempt=False, reason="rate limit")
    if wait > 0:
        time.sleep(wait)  # our reserved slot, at most _SLEEP_WAIT_MAX away

    suppressed = email_sending.suppressed_for(dynamodb, settings, tenant, args)
    rcpt = email_sending.filter_suppressed(args, suppressed)
    if rcpt.count == 0:
        return {"skipped": True, "sent_to": 0, "suppressed": rcpt.suppressed}

    request = email_sending.build_request(settings, tenant, args, rcpt)
    sent_at = time.time()  # when the request went out: what the SES rate counts
    try:
        message_id = email_sending.send(ses, request)
    except TransientEmailError as exc:
        failed = retrying.attempt(task)
        policy = task.spec.retry
        if failed >= policy.max_retries:
            raise EmailRetriesExhausted(f"{exc} (gave up after {failed + 1} attempts)") from None
        delay = policy.delay_for(failed, random.random())  # noqa: S311
        retrying.again(task, delay=delay, counts_as_attempt=True, reason=str(exc))
    except EmailQuotaExceeded as exc:
        if retrying.attempt(task) >= _QUOTA_RETRIES_MAX:
            raise
        retrying.again(
            task, delay=settings.ses_quota_retry_seconds, counts_as_attempt=True, reason=str(exc)
        )
    except SendingDisabled as exc:
        alerts.send_alert(
            redis,
            ses,
            settings,
            subject="SES sending disabled",
            text=f"{exc} (task {task_id}, tenant {tenant})",
        )
        raise
    result = email_sending.outcome(message_id, rcpt, sent_at)
    ledger.record(redis, task_id, EFFECT, result, core_settings().result_ttl_seconds)
    return result


def alert(subject: str, text: str) -> bool:
    """Send an ops alert to the configured alert recipients (see ``alerts.send_alert``)."""
    return alerts.send_alert(
        state_client(), clients.ses(), notify_settings(), subject=subject, text=text
    )
