"""The metrics handler against a real redis-server, with messages Celery/kombu really wrote.

Waiting messages are published by a real Celery producer (``send_task``, also at non-zero
priority so kombu uses its priority lists) and by taskport's own envelope builder;
in-flight messages are taken by a real kombu consumer that does not acknowledge them, so
kombu itself writes the ``unacked`` hash entries the handler counts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from kombu import Connection

from functions.metrics import names
from functions.metrics.backlog import measure, priority_lists
from workers.catalog import QUEUES
from workers.contract.headers import ENQUEUED_AT_HEADER
from workers.contract.message import build_envelope, new_task_id, queue_list_key

QUEUE_A, QUEUE_B = sorted(QUEUES)[:2]


@pytest.fixture
def producer(redis_url: str) -> Iterator[Celery]:
    app = Celery("metrics-test", broker=redis_url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    yield app
    app.close()


def _send(app: Celery, queue: str, *, priority: int = 0, enqueued_at: float | None = None) -> None:
    headers = {} if enqueued_at is None else {ENQUEUED_AT_HEADER: enqueued_at}
    app.send_task(
        "diagnostics.echo", kwargs={"message": "x"}, queue=queue, priority=priority, headers=headers
    )


def test_priority_lists_follow_kombu_naming(redis_url: str) -> None:
    from kombu.transport import redis as kombu_redis

    with Connection(redis_url) as conn:
        channel = conn.default_channel
        expected = tuple(channel._q_for_pri("q", pri) for pri in kombu_redis.PRIORITY_STEPS)
    assert priority_lists("q") == expected


def test_empty_redis_reports_explicit_zeros_for_every_queue(redis_client: Any) -> None:
    result = measure(redis_client, QUEUES, now=time.time())
    assert set(result) == set(QUEUES)
    for backlog in result.values():
        assert (backlog.waiting, backlog.in_flight, backlog.backlog) == (0, 0, 0)
        assert backlog.oldest_waiting_age == 0.0


def test_waiting_counts_every_priority_list(producer: Celery, redis_client: Any) -> None:
    _send(producer, QUEUE_A)
    _send(producer, QUEUE_A, priority=6)
    _send(producer, QUEUE_A, priority=9)
    _send(producer, QUEUE_B)
    # kombu really put the prioritised messages on separate lists.
    assert redis_client.llen(priority_lists(QUEUE_A)[2]) == 1

    result = measure(redis_client, QUEUES, now=time.time())

    assert result[QUEUE_A].waiting == 3
    assert result[QUEUE_B].waiting == 1
    assert all(result[q].waiting == 0 for q in QUEUES if q not in (QUEUE_A, QUEUE_B))


def test_oldest_waiting_age_comes_from_the_oldest_message(
    producer: Celery, redis_client: Any
) -> None:
    now = 1_900_000_000.0
    _send(producer, QUEUE_A, enqueued_at=now - 30)
    _send(producer, QUEUE_A, enqueued_at=now - 5)
    # An older message at another priority still counts as the oldest waiting one.
    _send(producer, QUEUE_A, priority=3, enqueued_at=now - 90)
    # taskport's own envelope (what the API Lambda pushes) carries the header itself.
    redis_client.lpush(
        queue_list_key(QUEUE_B),
        build_envelope(
            task_name="diagnostics.echo",
            task_id=new_task_id(),
            queue=QUEUE_B,
            kwargs={},
            headers={},
        ),
    )

    result = measure(redis_client, QUEUES, now=now)

    assert result[QUEUE_A].oldest_waiting_age == pytest.approx(90.0)
    envelope_age = result[QUEUE_B].oldest_waiting_age
    assert 0.0 <= envelope_age < 1_900_000_000.0 - time.time() + 60


def test_message_without_enqueued_at_header_reports_no_age(
    producer: Celery, redis_client: Any
) -> None:
    _send(producer, QUEUE_A)
    result = measure(redis_client, QUEUES, now=time.time())
    assert result[QUEUE_A].waiting == 1
    assert result[QUEUE_A].oldest_waiting_age == 0.0


def test_in_flight_counts_unacknowledged_messages_per_queue(
    producer: Celery, redis_url: str, redis_client: Any
) -> None:
    for _ in range(3):
        _send(producer, QUEUE_A)
    _send(producer, QUEUE_B)

    with Connection(redis_url) as conn:
        consumer_queue = conn.SimpleQueue(QUEUE_A)
        taken = [consumer_queue.get(timeout=2) for _ in range(2)]
        # kombu itself recorded the reservations.
        assert redis_client.hlen("unacked") == 2

        result = measure(redis_client, QUEUES, now=time.time())
        assert (result[QUEUE_A].waiting, result[QUEUE_A].in_flight) == (1, 2)
        assert result[QUEUE_A].backlog == 3
        assert (result[QUEUE_B].waiting, result[QUEUE_B].in_flight) == (1, 0)

        # Acknowledged messages leave the backlog.
        taken[0].ack()
        assert measure(redis_client, QUEUES, now=time.time())[QUEUE_A].in_flight == 1
        consumer_queue.close()


def test_unreadable_unacked_entries_are_ignored(redis_client: Any) -> None:
    redis_client.hset("unacked", "tag-1", "not json")
    redis_client.hset("unacked", "tag-2", json.dumps([{}, "", "some-other-queue"]))
    result = measure(redis_client, QUEUES, now=time.time())
    assert all(b.in_flight == 0 for b in result.values())


def test_handler_publishes_emf_for_every_queue(
    producer: Celery,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from functions.metrics import handler as metrics_handler
    from functions.shared import redis_client as shared_redis
    from workers.contract import settings

    monkeypatch.setenv(settings.ENV_REDIS_URL, redis_url)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    settings.core_settings.cache_clear()
    shared_redis.producer_client.cache_clear()
    _send(producer, QUEUE_B)
    _send(producer, QUEUE_B, priority=9)

    class Context:
        function_name = "metrics"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:metrics"
        aws_request_id = "req-1"

    try:
        result = metrics_handler.handler({"source": "aws.events"}, Context())
    finally:
        shared_redis.producer_client().close()
        shared_redis.producer_client.cache_clear()
        settings.core_settings.cache_clear()

    assert result["queues"][QUEUE_B]["backlog"] == 2
    documents = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line
    ]
    by_queue = {doc[names.QUEUE_DIMENSION]: doc for doc in documents}
    assert set(by_queue) == set(QUEUES)
    for queue, doc in by_queue.items():
        directive = doc["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == names.NAMESPACE
        assert directive["Dimensions"] == [[names.QUEUE_DIMENSION]]
        published = {m["Name"] for m in directive["Metrics"]}
        assert published == {
            names.WAITING,
            names.IN_FLIGHT,
            names.BACKLOG,
            names.OLDEST_WAITING_AGE,
        }
        # Powertools writes each value as a list of data points.
        assert doc[names.BACKLOG] == [2 if queue == QUEUE_B else 0]


def test_workers_keep_the_kombu_key_layout_the_counts_rely_on() -> None:
    from workers.config import WorkerSettings, celery_config
    from workers.contract.settings import CoreSettings

    config = celery_config(CoreSettings(), WorkerSettings())
    transport = config["broker_transport_options"]
    for option in ("sep", "priority_steps", "unacked_key", "global_keyprefix"):
        assert option not in transport, f"{option} changed: update functions/metrics/backlog.py"
    # Each catalog queue is bound with its own name as routing key (what unacked records).
    assert {(q.name, q.routing_key) for q in config["task_queues"]} == {(q, q) for q in QUEUES}
