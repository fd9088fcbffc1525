"""Email through real notifications workers (gevent pool) and moto's SES v2 server.

SES errors are injected with the test-only seam (``TASKPORT_TEST_SES_FAULTS=1``: each
SendEmail pops one error code from a Redis list). The global rate is checked with three
worker processes sharing one token bucket.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator

import pytest
import redis

from tests.support import notify_env
from tests.support.notify_env import Moto, NotificationsWorker
from workers.contract import keys, suppressions
from workers.contract import settings as names

pytestmark = pytest.mark.e2e

# A database of its own for this module's long-lived workers (tests/e2e/conftest.py).
MODULE_DB = 6

TENANT = "acme"
RATE = 20.0
MESSAGES = 61  # ~3 s at 20/s


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    with notify_env.moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def workers(
    module_url: str, moto: Moto, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[NotificationsWorker]]:
    env = notify_env.worker_env(
        moto,
        **{
            names.ENV_SES_MAX_SEND_RATE: str(RATE),
            names.ENV_SES_BURST: "1",
            names.ENV_TEST_SES_FAULTS: "1",
            names.ENV_ALERT_RECIPIENTS: "ops@example.com",
        },
    )
    undo = notify_env.set_process_env(env)
    broker = module_url
    logs = tmp_path_factory.mktemp("email-logs")
    started = [
        NotificationsWorker(broker, log_dir=logs, concurrency=10, extra_env=env) for _ in range(3)
    ]
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()
        undo()


def send(rdb: redis.Redis, to: list[str], **extra: object) -> str:
    args = {"to": to, "subject": "hello", "text": "body", **extra}
    return notify_env.submit(rdb, "notifications.send_email", args, tenant=TENANT)


def tail(workers: list[NotificationsWorker]) -> str:
    return "\n".join(w.log_tail(15) for w in workers)


def test_sends_through_ses_and_drops_suppressed(
    workers: list[NotificationsWorker], rdb: redis.Redis, moto: Moto
) -> None:
    from workers.contract import aws_clients
    from workers.contract.notify_settings import notify_settings

    tbl = aws_clients.table(notify_settings().table_name)
    suppressions.suppress(tbl, TENANT, "Bounced@Example.com", reason=suppressions.BOUNCE)
    done = notify_env.wait_result(rdb, send(rdb, ["ok@example.com", "bounced@example.com"]))
    assert done["status"] == "SUCCESS", tail(workers)
    assert done["result"]["sent_to"] == 1
    assert done["result"]["suppressed"] == ["bounced@example.com"]
    sent = [m for m in moto.sent_messages() if m.get("id") == done["result"]["message_id"]]
    assert sent and "bounced@example.com" not in json.dumps(sent)

    skipped = notify_env.wait_result(rdb, send(rdb, ["bounced@example.com"]))
    assert skipped["result"]["skipped"] is True


def test_throttling_is_retried_with_backoff(
    workers: list[NotificationsWorker], rdb: redis.Redis
) -> None:
    rdb.rpush(keys.TEST_SES_FAULTS, "TooManyRequestsException", "InternalFailure")
    done = notify_env.wait_result(rdb, send(rdb, ["retry@example.com"]), timeout=30)
    assert done["status"] == "SUCCESS", tail(workers)
    assert done["result"]["message_id"]
    assert rdb.llen(keys.TEST_SES_FAULTS) == 0


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("MessageRejected", "EmailRejected"),
        ("MailFromDomainNotVerifiedException", "EmailRejected"),
        ("NotFoundException", "EmailRejected"),
        ("BadRequestException", "EmailRejected"),
        ("SendingPausedException", "SendingDisabled"),
        ("AccountSuspendedException", "SendingDisabled"),
    ],
)
def test_permanent_errors_fail_at_once(
    workers: list[NotificationsWorker], rdb: redis.Redis, code: str, error: str
) -> None:
    rdb.delete(keys.ALERTS)
    rdb.rpush(keys.TEST_SES_FAULTS, code)
    done = notify_env.wait_result(rdb, send(rdb, ["x@example.com"]))
    assert done["status"] == "FAILURE"
    assert done["result"]["exc_type"] == error
    assert code in done["result"]["exc_message"][0]
    alerts = [json.loads(a) for a in rdb.lrange(keys.ALERTS, 0, -1)]
    assert bool(alerts) == (error == "SendingDisabled")


def test_daily_quota_waits_for_the_window_in_the_retry_schedule(
    workers: list[NotificationsWorker], rdb: redis.Redis
) -> None:
    import time

    rdb.rpush(keys.TEST_SES_FAULTS, "LimitExceededException")
    task_id = send(rdb, ["quota@example.com"])
    notify_env.wait_result(rdb, task_id, "RETRY")
    entries = rdb.zrange(keys.RETRY_SCHEDULE, 0, -1, withscores=True)
    [(member, due)] = [(m, s) for m, s in entries if task_id in json.loads(m)["envelope"]]
    assert due - time.time() > 3000  # an hour away, not a few minutes
    envelope = json.loads(json.loads(member)["envelope"])
    assert envelope["headers"]["tenant"] == TENANT
    rdb.zrem(keys.RETRY_SCHEDULE, member)


def test_global_rate_holds_across_worker_processes(
    workers: list[NotificationsWorker], rdb: redis.Redis
) -> None:
    ids = [send(rdb, [f"r{i}@example.com"]) for i in range(MESSAGES)]
    done = [notify_env.wait_result(rdb, i, timeout=30) for i in ids]
    assert all(d["status"] == "SUCCESS" for d in done), tail(workers)
    times = sorted(d["result"]["sent_at"] for d in done)
    # Each send is timestamped by its worker after it slept to its slot, so a single send
    # a little late (scheduling on 2 busy cores) would skew a first-to-last rate; the
    # least-squares slope of sends over time is the sustained rate.
    mean_t = statistics.fmean(times)
    mean_i = (len(times) - 1) / 2
    slope = sum((t - mean_t) * (i - mean_i) for i, t in enumerate(times)) / sum(
        (t - mean_t) ** 2 for t in times
    )
    assert RATE * 0.95 <= slope <= RATE * 1.05, slope
    # Also never faster than the rate over the run as a whole (first to last send).
    assert (len(times) - 1) / (times[-1] - times[0]) <= RATE * 1.15


def test_redelivered_email_is_not_sent_twice(
    workers: list[NotificationsWorker], rdb: redis.Redis, moto: Moto
) -> None:
    from workers.contract import message
    from workers.contract.headers import TENANT_HEADER

    args = {"to": ["once@example.com"], "subject": "once", "text": "body"}
    task_id = notify_env.submit(rdb, "notifications.send_email", args, tenant=TENANT)
    first = notify_env.wait_result(rdb, task_id)
    assert first["status"] == "SUCCESS", tail(workers)
    sent_before = len(moto.sent_messages())
    # The same message again, as after a lost ack: the ledger answers, SES is not called.
    rdb.delete(keys.celery_meta(task_id))
    rdb.lpush(
        "notifications",
        message.build_envelope(
            task_name="notifications.send_email",
            task_id=task_id,
            queue="notifications",
            kwargs=args,
            headers={TENANT_HEADER: TENANT},
        ),
    )
    again = notify_env.wait_result(rdb, task_id)
    assert again["result"]["replayed"] is True
    assert again["result"]["message_id"] == first["result"]["message_id"]
    assert len(moto.sent_messages()) == sent_before
