"""POST /v1/tasks and /v1/tasks/batch through the real handler on a real Redis."""

from __future__ import annotations

import base64
import json

import redis

from tests.functional.conftest import ApiClient
from workers.contract import keys


def queued(client: redis.Redis, queue: str = "default") -> list[dict]:
    return [json.loads(m) for m in client.lrange(queue, 0, -1)]


def test_submit_records_owner_and_enqueues_a_celery_message(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    response = api.submit("diagnostics.echo", {"message": "hello"})

    assert response.status == 202
    task_id = response.body["id"]
    assert response.body == {
        "id": task_id,
        "task": "diagnostics.echo",
        "state": "PENDING",
        "links": {"self": f"/v1/tasks/{task_id}", "cancel": f"/v1/tasks/{task_id}/cancel"},
    }
    record = redis_client.hgetall(keys.task_record(task_id))
    assert record["tenant"] == "acme"
    assert record["state"] == "PENDING"
    assert redis_client.ttl(keys.task_record(task_id)) > 0
    (message,) = queued(redis_client)
    assert message["headers"]["task"] == "diagnostics.echo"
    assert message["headers"]["id"] == task_id
    assert message["headers"]["tenant"] == "acme"
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([], {"message": "hello"})
    assert redis_client.zscore(keys.tenant_index("acme"), task_id) is not None


def test_unknown_task_is_400_listing_valid_names(api: ApiClient, redis_client: redis.Redis) -> None:
    response = api.submit("diagnostics.nope", {})

    assert response.status == 400
    error = response.body["error"]
    assert error["code"] == "unknown_task"
    for name in ("diagnostics.echo", "diagnostics.sleep", "diagnostics.fail"):
        assert name in error["message"]
    assert redis_client.llen("default") == 0


def test_bad_args_are_400_with_the_field_path_and_no_echo(api: ApiClient) -> None:
    secret = "x" * 10_001
    response = api.submit("diagnostics.echo", {"message": secret})

    assert response.status == 400
    error = response.body["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["loc"] == ["body", "args", "message"]
    assert secret not in json.dumps(response.body)
    assert "input" not in error["details"][0]


def test_unknown_argument_is_rejected(api: ApiClient) -> None:
    response = api.submit("diagnostics.echo", {"message": "hi", "extra": 1})
    assert response.status == 400
    assert ["body", "args", "extra"] in [d["loc"] for d in response.body["error"]["details"]]


def test_malformed_json_is_400(api: ApiClient) -> None:
    response = api.call("POST", "/v1/tasks", body="{not json")
    assert response.status == 400
    assert response.body["error"]["code"] == "invalid_json"


def test_body_over_the_limit_is_413(api: ApiClient, monkeypatch) -> None:
    monkeypatch.setenv("TASKPORT_MAX_BODY_BYTES", "2048")
    from tests.functional.conftest import reset_settings

    reset_settings()
    response = api.submit("diagnostics.echo", {"message": "y" * 5000})
    assert response.status == 413
    assert response.body["error"]["code"] == "payload_too_large"


def test_countdown_beyond_the_visibility_timeout_is_400(api: ApiClient) -> None:
    response = api.call(
        "POST",
        "/v1/tasks",
        body={"task": "diagnostics.echo", "args": {"message": "m"}, "countdown": 10**6},
    )
    assert response.status == 400
    assert response.body["error"]["details"][0]["loc"] == ["body", "countdown"]


def test_countdown_sets_the_message_eta(api: ApiClient, redis_client: redis.Redis) -> None:
    response = api.call(
        "POST",
        "/v1/tasks",
        body={"task": "diagnostics.echo", "args": {"message": "m"}, "countdown": 30},
    )
    assert response.status == 202
    (message,) = queued(redis_client)
    assert message["headers"]["eta"] is not None


def test_task_scope_is_required(api: ApiClient, redis_client: redis.Redis) -> None:
    reader = api.as_tenant("acme", scope="taskport/tasks:read")
    response = reader.submit("diagnostics.echo", {"message": "hi"})
    assert response.status == 403
    assert response.body["error"]["code"] == "forbidden"
    assert redis_client.llen("default") == 0


def test_scopes_without_the_issuer_prefix_do_not_count(api: ApiClient) -> None:
    response = api.as_tenant("acme", scope="tasks:write").submit(
        "diagnostics.echo", {"message": "x"}
    )
    assert response.status == 403


def test_idempotency_key_replays_the_same_answer(api: ApiClient, redis_client: redis.Redis) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = api.submit("diagnostics.echo", {"message": "once"}, headers=headers)
    second = api.submit("diagnostics.echo", {"message": "once"}, headers=headers)

    assert first.status == second.status == 202
    assert first.body == second.body
    assert redis_client.llen("default") == 1
    assert 0 < redis_client.ttl(keys.idempotency("acme", "order-42")) <= 86_400


def test_idempotency_key_with_another_body_is_422(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    headers = {"Idempotency-Key": "order-43"}
    assert api.submit("diagnostics.echo", {"message": "a"}, headers=headers).status == 202
    response = api.submit("diagnostics.echo", {"message": "b"}, headers=headers)
    assert response.status == 422
    assert response.body["error"]["code"] == "idempotency_key_reused"
    assert redis_client.llen("default") == 1


def test_idempotency_keys_are_tenant_scoped(api: ApiClient, redis_client: redis.Redis) -> None:
    headers = {"Idempotency-Key": "shared"}
    a = api.submit("diagnostics.echo", {"message": "a"}, headers=headers)
    b = api.as_tenant("globex").submit("diagnostics.echo", {"message": "a"}, headers=headers)
    assert a.status == b.status == 202
    assert a.body["id"] != b.body["id"]
    assert redis_client.llen("default") == 2


def test_invalid_idempotency_key_is_400(api: ApiClient) -> None:
    response = api.submit(
        "diagnostics.echo", {"message": "a"}, headers={"Idempotency-Key": "has space"}
    )
    assert response.status == 400
    assert response.body["error"]["details"][0]["loc"] == ["header", "idempotency-key"]


def test_batch_enqueues_valid_items_and_reports_each_error(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    response = api.call(
        "POST",
        "/v1/tasks/batch",
        body={
            "tasks": [
                {"task": "diagnostics.echo", "args": {"message": "1"}},
                {"task": "diagnostics.echo", "args": {"message": "2"}, "countdown": 10**7},
                {"task": "diagnostics.sleep", "args": {"seconds": 0.1, "steps": 1}},
            ]
        },
    )
    assert response.status == 202
    items = response.body["items"]
    assert [("id" in i and i["id"] is not None) for i in items] == [True, False, True]
    assert items[1]["error"]["code"] == "invalid_request"
    assert (response.body["accepted"], response.body["rejected"]) == (2, 1)
    assert redis_client.llen("default") == 2


def test_batch_with_an_invalid_item_schema_is_400_naming_its_index(api: ApiClient) -> None:
    response = api.call(
        "POST",
        "/v1/tasks/batch",
        body={
            "tasks": [
                {"task": "diagnostics.echo", "args": {"message": "ok"}},
                {"task": "x", "args": {}},
            ]
        },
    )
    assert response.status == 400
    assert response.body["error"]["details"][0]["loc"][:3] == ["body", "tasks", 1]


def test_a_body_that_is_not_json_is_415(api: ApiClient, redis_client: redis.Redis) -> None:
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain"):
        response = api.call(
            "POST",
            "/v1/tasks",
            body="task=diagnostics.echo",
            headers={"Content-Type": content_type},
        )
        assert response.status == 415, content_type
        assert response.body["error"]["code"] == "unsupported_media_type"
    assert redis_client.llen("default") == 0


def test_a_non_utf8_body_is_400(api: ApiClient) -> None:
    event = api.event("POST", "/v1/tasks", body="x")
    event["body"] = base64.b64encode(b"\xff\xfe{").decode()
    event["isBase64Encoded"] = True
    from functions.api.handler import handler
    from tests.functional.conftest import LambdaContext

    result = handler(event, LambdaContext())
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"]["code"] == "invalid_json"


def test_scopes_in_an_scp_claim_count_too(api: ApiClient) -> None:
    client = api.as_tenant("acme", scope="")
    event = client.event(
        "POST", "/v1/tasks", body={"task": "diagnostics.echo", "args": {"message": "s"}}
    )
    # HTTP API delivers array claims stringified as "[a b]".
    event["requestContext"]["authorizer"]["jwt"]["claims"]["scp"] = "[taskport/tasks:write]"
    from functions.api.handler import handler
    from tests.functional.conftest import LambdaContext

    assert handler(event, LambdaContext())["statusCode"] == 202
