"""functions/events: SES bounce/complaint events (EventBridge) -> suppressions in DynamoDB.

The events are hand-written samples of what SES publishes to EventBridge (moto emits none).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from workers.contract import aws_clients, suppressions, table
from workers.contract import settings as names
from workers.contract.notify_settings import notify_settings

EVENTS = Path(__file__).parent.parent / "events"
TABLE = "taskport-events-test"


class Context:
    function_name = "taskport-events"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:taskport-events"
    aws_request_id = "events-test"


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv(names.ENV_TABLE, TABLE)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws_clients.reset()
        notify_settings.cache_clear()
        from workers.contract.settings import core_settings

        core_settings.cache_clear()
        client = aws_clients.client("dynamodb")
        client.create_table(TableName=TABLE, **table.table_definition())
        yield client
        aws_clients.reset()
        notify_settings.cache_clear()
        core_settings.cache_clear()


def handle(name: str) -> dict[str, Any]:
    from functions.events.handler import handler

    return handler(event(name), Context())


def is_suppressed(dynamodb: Any, tenant: str, address: str) -> bool:
    return bool(suppressions.suppressed(dynamodb, TABLE, tenant, [address]))


def test_permanent_bounce_suppresses_for_that_tenant(dynamodb: Any) -> None:
    assert handle("ses_bounce_permanent.json") == {"handled": True, "suppressed": 1}
    assert is_suppressed(dynamodb, "acme", "gone.user@example.com")
    assert is_suppressed(dynamodb, "acme", "GONE.USER@example.com")
    assert not is_suppressed(dynamodb, "other-tenant", "gone.user@example.com")


def test_transient_bounce_does_not_suppress(dynamodb: Any) -> None:
    assert handle("ses_bounce_transient.json")["suppressed"] == 0
    assert not is_suppressed(dynamodb, "acme", "full@example.com")


def test_complaint_suppresses_with_an_encoded_tenant(dynamodb: Any) -> None:
    assert handle("ses_complaint.json") == {"handled": True, "suppressed": 1}
    assert is_suppressed(dynamodb, "tenant acme", "angry@example.com")


def test_other_events_are_ignored_cleanly(dynamodb: Any) -> None:
    assert handle("ses_delivery.json") == {"handled": False, "reason": "unsupported event"}
    s3 = {
        "version": "0",
        "id": "x",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "detail": {"bucket": {"name": "b"}, "object": {"key": "k.csv"}},
    }
    from functions.events.handler import handler

    assert handler(s3, Context())["handled"] is False
    assert handler({}, Context())["handled"] is False


def test_event_without_tenant_tag_is_not_attributed(dynamodb: Any) -> None:
    untagged = event("ses_bounce_permanent.json")
    del untagged["detail"]["mail"]["tags"]["taskport-tenant"]
    from functions.events.handler import handler

    assert handler(untagged, Context()) == {"handled": False, "reason": "no tenant tag"}
