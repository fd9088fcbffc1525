"""Webhook endpoint routes through the real API handler: moto (DynamoDB + KMS in-process),
a real Redis for delivery records, SSRF refusals at registration, tenant isolation.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from moto import mock_aws
from standardwebhooks.webhooks import Webhook

from tests.functional.conftest import ApiClient
from workers.contract import aws_clients, endpoint_store, keys, table
from workers.contract import settings as names
from workers.contract.notify_settings import notify_settings
from workers.notifications.webhooks import signing

TABLE = "taskport-webhooks-api"
BASE = "/v1/webhooks/endpoints"
PUBLIC = "93.184.216.34"


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One moto (DynamoDB + KMS) for the module; each test works as a tenant of its own."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv(names.ENV_TABLE, TABLE)
        patch.setenv(names.ENV_KMS_KEY_ID, "alias/taskport-api-test")
        patch.setenv(
            names.ENV_TEST_DNS_OVERRIDES,
            json.dumps({"hooks.example.com": [PUBLIC], "internal.example.com": ["10.0.0.7"]}),
        )
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        aws_clients.reset()
        notify_settings.cache_clear()
        aws_clients.client("dynamodb").create_table(TableName=TABLE, **table.table_definition())
        kms = aws_clients.client("kms")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/taskport-api-test", TargetKeyId=key)
        yield
        aws_clients.reset()
        notify_settings.cache_clear()


@pytest.fixture
def webhooks_api(api: ApiClient, aws: None) -> ApiClient:
    return api.as_tenant(f"t-{uuid.uuid4().hex[:8]}")


def create(client: ApiClient, url: str = "https://hooks.example.com/taskport", **extra: Any) -> Any:
    return client.call("POST", BASE, body={"url": url, "description": "d", **extra})


def test_register_returns_the_secret_once(webhooks_api: ApiClient) -> None:
    created = create(webhooks_api, event_types=["order.paid"])
    assert created.status == 201, created.body
    secret = created.body["secret"]
    assert secret.startswith("whsec_")
    assert created.body["event_types"] == ["order.paid"]
    endpoint_id = created.body["id"]

    got = webhooks_api.call("GET", f"{BASE}/{endpoint_id}")
    assert got.status == 200 and "secret" not in got.body
    listed = webhooks_api.call("GET", BASE)
    assert [e["id"] for e in listed.body["endpoints"]] == [endpoint_id]
    assert secret not in json.dumps(listed.body)

    # Stored sealed: the plaintext is nowhere in the item, and it opens with KMS.
    item = aws_clients.table(TABLE).get_item(
        Key=table.endpoint_key(webhooks_api.tenant, endpoint_id)
    )["Item"]
    assert secret not in json.dumps(item, default=str)
    ep = endpoint_store.get(aws_clients.table(TABLE), webhooks_api.tenant, endpoint_id)
    assert ep is not None
    [key] = endpoint_store.signing_keys(aws_clients.client("kms"), ep)
    body = b'{"a":1}'
    Webhook(secret).verify(body, signing.headers([key], "msg_1", int(time.time()), body))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "address"),
        ("http://169.254.169.254/latest/meta-data/", "address"),
        ("https://internal.example.com/hook", "address"),
        ("http://2130706433/", "ip_spelling"),
        ("https://hooks.example.com:8443/", "port"),
        ("ftp://hooks.example.com/", "scheme"),
        ("http://[::ffff:127.0.0.1]/", "address"),
    ],
)
def test_unsafe_urls_are_refused_at_registration(
    webhooks_api: ApiClient, url: str, reason: str
) -> None:
    refused = create(webhooks_api, url)
    assert refused.status == 400
    assert refused.body["error"]["code"] == "unsafe_url"
    assert refused.body["error"]["details"][0]["type"] == reason


def test_bad_bodies_are_400(webhooks_api: ApiClient) -> None:
    assert webhooks_api.call("POST", BASE, body={"description": "no url"}).status == 400
    assert create(webhooks_api, extra_field=1).status == 400
    assert create(webhooks_api, event_types=["bad type!"]).status == 400


def test_other_tenants_cannot_see_or_touch_an_endpoint(webhooks_api: ApiClient) -> None:
    endpoint_id = create(webhooks_api).body["id"]
    other = webhooks_api.as_tenant("globex")
    for method, path in [
        ("GET", f"{BASE}/{endpoint_id}"),
        ("DELETE", f"{BASE}/{endpoint_id}"),
        ("POST", f"{BASE}/{endpoint_id}/rotate-secret"),
        ("GET", f"{BASE}/{endpoint_id}/deliveries"),
    ]:
        assert other.call(method, path).status == 404, (method, path)
    assert other.call("GET", BASE).body == {"endpoints": []}


def test_scope_is_required(webhooks_api: ApiClient) -> None:
    no_scope = webhooks_api.as_tenant(
        webhooks_api.tenant, "taskport/tasks:write taskport/tasks:read"
    )
    answer = no_scope.call("GET", BASE)
    assert answer.status == 403 and answer.body["error"]["code"] == "forbidden"


def test_rotate_keeps_the_old_secret_for_the_grace_period(webhooks_api: ApiClient) -> None:
    created = create(webhooks_api).body
    rotated = webhooks_api.call("POST", f"{BASE}/{created['id']}/rotate-secret")
    assert rotated.status == 200
    assert rotated.body["secret"] != created["secret"]
    assert rotated.body["previous_valid_until"] is not None
    assert webhooks_api.call("GET", f"{BASE}/{created['id']}").body["secret_versions"] == 2


def test_delete_then_404(webhooks_api: ApiClient) -> None:
    endpoint_id = create(webhooks_api).body["id"]
    assert webhooks_api.call("DELETE", f"{BASE}/{endpoint_id}").status == 204
    assert webhooks_api.call("GET", f"{BASE}/{endpoint_id}").status == 404
    assert webhooks_api.call("DELETE", f"{BASE}/{endpoint_id}").status == 404


def test_deliveries_are_listed_newest_first(
    webhooks_api: ApiClient, redis_client: redis.Redis
) -> None:
    endpoint_id = create(webhooks_api).body["id"]
    key = keys.webhook_attempts(webhooks_api.tenant, endpoint_id)
    for n, outcome in enumerate(["retry", "delivered"], start=1):
        redis_client.lpush(
            key,
            json.dumps(
                {
                    "task_id": "t1",
                    "webhook_id": "msg_t1",
                    "event_type": "order.paid",
                    "attempt": n,
                    "at": 1.0 * n,
                    "outcome": outcome,
                    "status": 503 if n == 1 else 200,
                    "latency_ms": 12.5,
                    "error": None,
                }
            ),
        )
    listed = webhooks_api.call("GET", f"{BASE}/{endpoint_id}/deliveries")
    assert listed.status == 200
    assert [d["outcome"] for d in listed.body["deliveries"]] == ["delivered", "retry"]


def test_openapi_documents_the_webhook_routes(webhooks_api: ApiClient) -> None:
    document = webhooks_api.call("GET", "/v1/openapi.json").body
    post = document["paths"][BASE]["post"]
    assert {"201", "400", "401", "403"} <= set(post["responses"])
    assert "404" in document["paths"][BASE + "/{id}"]["get"]["responses"]


def _stored(tenant: str, endpoint_id: str) -> endpoint_store.Endpoint:
    ep = endpoint_store.get(aws_clients.table(TABLE), tenant, endpoint_id)
    assert ep is not None
    return ep


def test_a_rotation_does_not_undo_a_concurrent_disable(webhooks_api: ApiClient) -> None:
    endpoint_id = create(webhooks_api).body["id"]
    tenant = webhooks_api.tenant
    read_before = _stored(tenant, endpoint_id)
    # A worker disables the endpoint (410 Gone) between the API's read and its write.
    endpoint_store.disable(aws_clients.table(TABLE), tenant, endpoint_id, "answered 410 Gone")
    settings = notify_settings()
    endpoint_store.rotate(
        aws_clients.table(TABLE),
        aws_clients.client("kms"),
        settings.kms_key_id,
        read_before,
        grace_seconds=60,
    )
    after = _stored(tenant, endpoint_id)
    assert after.disabled is True
    assert [s.version for s in after.secrets] == [1, 2]


def test_two_rotations_from_the_same_read_keep_one_and_refuse_the_other(
    webhooks_api: ApiClient,
) -> None:
    endpoint_id = create(webhooks_api).body["id"]
    read_once = _stored(webhooks_api.tenant, endpoint_id)
    settings = notify_settings()

    def rotate() -> Any:
        return endpoint_store.rotate(
            aws_clients.table(TABLE),
            aws_clients.client("kms"),
            settings.kms_key_id,
            read_once,
            grace_seconds=60,
        )

    _, kept_secret = rotate()
    with pytest.raises(endpoint_store.EndpointChanged):
        rotate()
    stored = _stored(webhooks_api.tenant, endpoint_id)
    assert [s.version for s in stored.secrets] == [1, 2]
    current = endpoint_store.unseal_version(aws_clients.client("kms"), stored, stored.secrets[-1])
    assert current == endpoint_store.secret_bytes(kept_secret)


def test_rotating_from_a_stale_read_is_409(
    webhooks_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.api import webhook_endpoints

    endpoint_id = create(webhooks_api).body["id"]
    stale = _stored(webhooks_api.tenant, endpoint_id)
    assert webhooks_api.call("POST", f"{BASE}/{endpoint_id}/rotate-secret").status == 200
    # Another call rotated between this call's read and its write.
    monkeypatch.setattr(webhook_endpoints, "_owned", lambda *_: stale)
    answer = webhooks_api.call("POST", f"{BASE}/{endpoint_id}/rotate-secret")
    assert answer.status == 409
    assert answer.body["error"]["code"] == "endpoint_changed"
    assert "secret" not in answer.body
