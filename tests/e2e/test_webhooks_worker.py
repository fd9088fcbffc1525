"""Webhooks through a real notifications worker (gevent pool, as the catalog says), moto's
server for DynamoDB + KMS, and a real HTTP receiver on 127.0.0.1.

Signatures are verified with the ``standardwebhooks`` reference library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from standardwebhooks.webhooks import Webhook

from tests.support import notify_env
from tests.support.notify_env import Moto, NotificationsWorker, Receiver
from tests.support.polling import wait_for
from workers.contract import endpoint_store, keys, ssrf
from workers.contract import settings as names
from workers.maintenance import retry_schedule

pytestmark = pytest.mark.e2e

# A database of its own for this module's long-lived workers (tests/e2e/conftest.py).
MODULE_DB = 5

TENANT = "acme"
REBIND_HOST = "rebind.example.test"
PUBLIC_IP = "93.184.216.34"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    with notify_env.moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def rec() -> Iterator[Receiver]:
    with notify_env.receiver() as server:
        yield server


@pytest.fixture(scope="module")
def env(moto: Moto, rec: Receiver) -> Iterator[dict[str, str]]:
    values = notify_env.worker_env(
        moto,
        **{
            names.ENV_ALLOW_LOOPBACK_WEBHOOKS: "1",
            names.ENV_WEBHOOK_PORTS: f"80,443,{rec.port}",
            names.ENV_WEBHOOK_RETRY_SCHEDULE: "1,1,1",
            names.ENV_SHORT_RETRY_MAX: "30",
            names.ENV_WEBHOOK_ENDPOINT_CACHE: "0",
            names.ENV_TEST_DNS_OVERRIDES: json.dumps({REBIND_HOST: ["169.254.169.254"]}),
        },
    )
    undo = notify_env.set_process_env(values)
    yield values
    undo()


@pytest.fixture(scope="module")
def worker(
    module_url: str, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotificationsWorker]:
    worker = NotificationsWorker(
        module_url, log_dir=tmp_path_factory.mktemp("wh-logs"), concurrency=10, extra_env=env
    )
    worker.start()
    yield worker
    worker.stop()


def register(moto: Moto, url: str, event_types: tuple[str, ...] = ()) -> tuple[str, str]:
    from workers.contract import aws_clients
    from workers.contract.notify_settings import notify_settings

    settings = notify_settings()
    ep, secret = endpoint_store.create(
        aws_clients.table(settings.table_name),
        aws_clients.client("kms"),
        settings.kms_key_id,
        tenant=TENANT,
        url=url,
        description="test",
        event_types=event_types,
    )
    return ep.id, secret


def verify(secret: str, received: notify_env.Received) -> Any:
    return Webhook(secret).verify(received.body, received.headers)


def deliver(rdb: redis.Redis, endpoint_id: str, payload: dict[str, Any]) -> str:
    return notify_env.submit(
        rdb,
        "notifications.send_webhook",
        {"endpoint_id": endpoint_id, "event_type": "order.paid", "payload": payload},
        tenant=TENANT,
    )


def test_delivery_is_signed_and_recorded(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    endpoint_id, secret = register(moto, rec.url("/ok"))
    task_id = deliver(rdb, endpoint_id, {"order": 1})
    done = notify_env.wait_result(rdb, task_id)
    assert done["status"] == "SUCCESS", worker.log_tail()
    [got] = rec.at("/ok")
    assert verify(secret, got)["data"] == {"order": 1}
    assert got.headers["webhook-id"] == f"msg_{task_id}"
    attempts = rdb.lrange(keys.webhook_attempts(TENANT, endpoint_id), 0, -1)
    assert json.loads(attempts[0])["outcome"] == "delivered"


def test_a_named_host_is_resolved_in_the_worker(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    # The system resolver (behind the test's DNS overrides), in the resolver gate's threads.
    endpoint_id, secret = register(moto, rec.url("/named", host="localhost"))
    task_id = deliver(rdb, endpoint_id, {"named": True})
    done = notify_env.wait_result(rdb, task_id)
    assert done["status"] == "SUCCESS", worker.log_tail()
    [got] = rec.at("/named")
    assert verify(secret, got)["data"] == {"named": True}


def test_retry_keeps_id_changes_timestamp(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    rec.answer("/flaky", (503, {}), (429, {"retry-after": "1"}))
    endpoint_id, secret = register(moto, rec.url("/flaky"))
    task_id = deliver(rdb, endpoint_id, {"n": 2})
    done = notify_env.wait_result(rdb, task_id, timeout=30)
    assert done["status"] == "SUCCESS", worker.log_tail()
    got = rec.at("/flaky")
    assert len(got) == 3
    assert {g.headers["webhook-id"] for g in got} == {f"msg_{task_id}"}
    stamps = [int(g.headers["webhook-timestamp"]) for g in got]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    for g in got:
        verify(secret, g)
    assert done["result"]["attempts"] == 3
    outcomes = [
        json.loads(a)["outcome"]
        for a in rdb.lrange(keys.webhook_attempts(TENANT, endpoint_id), 0, -1)
    ]
    assert outcomes == ["delivered", "retry", "retry"]


def test_rotation_sends_two_signatures(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    from workers.contract import aws_clients
    from workers.contract.notify_settings import notify_settings

    endpoint_id, old_secret = register(moto, rec.url("/rotated"))
    settings = notify_settings()
    tbl = aws_clients.table(settings.table_name)
    ep = endpoint_store.get(tbl, TENANT, endpoint_id)
    assert ep is not None
    _, new_secret = endpoint_store.rotate(
        tbl, aws_clients.client("kms"), settings.kms_key_id, ep, grace_seconds=3600
    )
    task_id = deliver(rdb, endpoint_id, {"rotated": True})
    assert notify_env.wait_result(rdb, task_id)["status"] == "SUCCESS", worker.log_tail()
    [got] = rec.at("/rotated")
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verify(old_secret, got)["data"] == {"rotated": True}
    assert verify(new_secret, got)["data"] == {"rotated": True}


def test_410_disables_the_endpoint(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    rec.answer("/gone", (410, {}))
    endpoint_id, _ = register(moto, rec.url("/gone"))
    done = notify_env.wait_result(rdb, deliver(rdb, endpoint_id, {}))
    assert done["status"] == "FAILURE"
    assert done["result"]["exc_type"] == "WebhookEndpointGone"
    from workers.contract import aws_clients
    from workers.contract.notify_settings import notify_settings

    ep = endpoint_store.get(aws_clients.table(notify_settings().table_name), TENANT, endpoint_id)
    assert ep is not None and ep.disabled
    # The next event is refused without contacting the endpoint.
    again = notify_env.wait_result(rdb, deliver(rdb, endpoint_id, {}))
    assert again["result"]["exc_type"] == "WebhookEndpointDisabled"
    assert len(rec.at("/gone")) == 1


def test_redirect_is_not_followed(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    rec.answer("/redirect", (302, {"location": "http://169.254.169.254/latest/meta-data/"}))
    endpoint_id, _ = register(moto, rec.url("/redirect"))
    done = notify_env.wait_result(rdb, deliver(rdb, endpoint_id, {}))
    assert done["status"] == "FAILURE"
    assert "redirects are not followed" in done["result"]["exc_message"][0]
    assert len(rec.at("/redirect")) == 1


def test_dns_rebinding_is_blocked_at_send(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    url = rec.url("/rebind", host=REBIND_HOST)
    # Registration saw a public address...
    ssrf.check_url(url, allowed_ports=[rec.port], resolver=lambda h, p: [PUBLIC_IP])
    endpoint_id, _ = register(moto, url)
    # ...the worker's resolver now answers the metadata address: refused before connecting.
    done = notify_env.wait_result(rdb, deliver(rdb, endpoint_id, {}))
    assert done["status"] == "FAILURE"
    assert "link_local" in done["result"]["exc_message"][0]
    [attempt] = rdb.lrange(keys.webhook_attempts(TENANT, endpoint_id), 0, -1)
    assert json.loads(attempt)["outcome"] == "blocked"


def test_long_retry_goes_through_the_retry_schedule(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    # Retry-After 120 s is beyond the short-retry bound (30 s here): the retry schedule.
    rec.answer("/later", (503, {"retry-after": "120"}))
    endpoint_id, secret = register(moto, rec.url("/later"))
    task_id = deliver(rdb, endpoint_id, {"later": True})
    notify_env.wait_result(rdb, task_id, "RETRY")
    [(member, due)] = rdb.zrange(keys.RETRY_SCHEDULE, 0, -1, withscores=True)
    assert json.loads(json.loads(member)["envelope"])["headers"]["id"] == task_id
    assert retry_schedule.sweep(rdb) == 0  # not due yet
    assert retry_schedule.sweep(rdb, now=due + 1) == 1  # what the minute sweep does
    done = notify_env.wait_result(rdb, task_id)
    assert done["status"] == "SUCCESS", worker.log_tail()
    got = rec.at("/later")
    assert [g.headers["webhook-id"] for g in got] == [f"msg_{task_id}"] * 2
    verify(secret, got[1])


def test_redelivered_task_does_not_deliver_twice(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    endpoint_id, _ = register(moto, rec.url("/once"))
    task_id = deliver(rdb, endpoint_id, {"once": True})
    assert notify_env.wait_result(rdb, task_id)["status"] == "SUCCESS"
    # The same message again (as after a lost ack): the ledger answers, no second POST.
    rdb.delete(keys.celery_meta(task_id))
    from workers.contract import message
    from workers.contract.headers import TENANT_HEADER

    rdb.lpush(
        "notifications",
        message.build_envelope(
            task_name="notifications.send_webhook",
            task_id=task_id,
            queue="notifications",
            kwargs={
                "endpoint_id": endpoint_id,
                "event_type": "order.paid",
                "payload": {"once": True},
            },
            headers={TENANT_HEADER: TENANT},
        ),
    )
    again = notify_env.wait_result(rdb, task_id)
    assert again["result"]["replayed"] is True
    wait_for(lambda: len(rec.at("/once")) == 1, timeout=1, what="exactly one POST")


def test_loopback_flag_outside_local_or_test_stops_the_worker(
    rdb: redis.Redis, tmp_path: Path
) -> None:
    from tests.support.workers import WorkerError

    kwargs = rdb.connection_pool.connection_kwargs
    worker = NotificationsWorker(
        f"redis://127.0.0.1:{kwargs['port']}/{kwargs['db']}",
        log_dir=tmp_path,
        concurrency=2,
        extra_env={names.ENV_ENV: "aws", names.ENV_ALLOW_LOOPBACK_WEBHOOKS: "1"},
    )
    try:
        with pytest.raises(WorkerError, match="only allowed when"):
            worker.start(timeout=30)
    finally:
        worker.stop()


def test_retries_end_after_the_schedule(
    worker: NotificationsWorker, rdb: redis.Redis, rec: Receiver, moto: Moto
) -> None:
    # The module's schedule has three retries: four 503s exhaust it.
    rec.answer("/down", *[(503, {})] * 5)
    endpoint_id, _ = register(moto, rec.url("/down"))
    done = notify_env.wait_result(rdb, deliver(rdb, endpoint_id, {}), "FAILURE", timeout=30)
    assert done["result"]["exc_type"] == "WebhookDeliveryFailed"
    assert "after 4 attempts" in done["result"]["exc_message"][0]
    assert len(rec.at("/down")) == 4


def test_sigterm_exits_cleanly_and_every_event_is_delivered_once(
    worker: NotificationsWorker,
    env: dict[str, str],
    rdb: redis.Redis,
    rec: Receiver,
    moto: Moto,
    tmp_path: Path,
) -> None:
    """The gevent worker's shutdown is a warm one (no SIGQUIT remap: Celery's soft phase
    cannot sleep inside gevent's loop), bounded by each delivery's own deadline; what it
    did not start is taken by the module's other worker."""
    import signal

    rec.path_delays["/slow"] = 2.0
    endpoint_id, _ = register(moto, rec.url("/slow"))
    kwargs = rdb.connection_pool.connection_kwargs
    broker = f"redis://127.0.0.1:{kwargs['port']}/{kwargs['db']}"
    rdb.delete("notifications")
    first = NotificationsWorker(
        broker,
        log_dir=tmp_path,
        concurrency=2,
        extra_env={**env, "REMAP_SIGTERM": ""},
        queues=("notifications",),
    )
    first.start()
    try:
        ids = [deliver(rdb, endpoint_id, {"i": i}) for i in range(6)]
        wait_for(lambda: rec.at("/slow"), timeout=10, what="a delivery in flight")
        first.signal(signal.SIGTERM)
        assert first.wait_exit(30) == 0, first.log_tail()
    finally:
        first.stop()
    done = [notify_env.wait_result(rdb, i, timeout=60) for i in ids]
    assert all(d["status"] == "SUCCESS" for d in done)
    # Every event delivered exactly once: nothing lost, nothing repeated by the shutdown.
    bodies = sorted(json.loads(r.body)["data"]["i"] for r in rec.at("/slow"))
    assert bodies == list(range(6))
