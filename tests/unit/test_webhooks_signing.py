"""Standard Webhooks signing (verified with the reference library) and delivery policy."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from workers.contract import endpoint_store
from workers.notifications.webhooks import delivery, signing


def test_signature_verifies_with_the_reference_library() -> None:
    secret, raw = endpoint_store.new_secret()
    assert secret.startswith("whsec_") and endpoint_store.secret_bytes(secret) == raw
    body = b'{"type":"order.paid","data":{"id":1}}'
    now = int(time.time())
    headers = signing.headers([raw], "msg_abc", now, body)
    assert Webhook(secret).verify(body, headers) == {"type": "order.paid", "data": {"id": 1}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)


def test_rotation_signs_with_both_secrets() -> None:
    old, old_raw = endpoint_store.new_secret()
    new, new_raw = endpoint_store.new_secret()
    other, _ = endpoint_store.new_secret()
    body = b"{}"
    headers = signing.headers([new_raw, old_raw], "msg_x", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


def test_message_id_is_stable_per_task() -> None:
    assert signing.message_id("t-1") == signing.message_id("t-1") == "msg_t-1"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (410, "gone"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (408, "retry"),
        (301, "failed"),
        (302, "failed"),
        (400, "failed"),
        (401, "failed"),
        (404, "failed"),
        (422, "failed"),
    ],
)
def test_status_classes(status: int, outcome: str) -> None:
    assert delivery.classify(status)[0] == outcome


def test_backoff_schedule_with_jitter_and_retry_after() -> None:
    schedule = (5.0, 300.0)
    assert delivery.next_delay(schedule, 1, None, 600, rand=0.0) == 5.0
    assert 5.0 <= delivery.next_delay(schedule, 1, None, 600, rand=1.0) <= 6.0  # type: ignore[operator]
    assert delivery.next_delay(schedule, 2, None, 600, rand=0.0) == 300.0
    assert delivery.next_delay(schedule, 3, None, 600) is None  # exhausted
    # Retry-After is honoured as a floor, but capped.
    assert delivery.next_delay(schedule, 1, 120, 600, rand=0.0) == 120
    assert delivery.next_delay(schedule, 1, 86_400, 600, rand=0.0) == 600


def test_retry_after_forms() -> None:
    assert delivery.parse_retry_after("120") == 120
    assert delivery.parse_retry_after(None) is None
    assert delivery.parse_retry_after("soon") is None
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert delivery.parse_retry_after(stamp, now=1445412480 - 60) == pytest.approx(60)
