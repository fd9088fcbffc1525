"""Reading, listing and cancelling tasks, and the API's own documents."""

from __future__ import annotations

import json
import time

import redis

from tests.functional.conftest import ApiClient
from workers.contract import keys


def finish(client: redis.Redis, task_id: str, status: str, result: object) -> None:
    """Write what a Celery worker writes at the end of a task (its result key)."""
    meta = {
        "status": status,
        "result": result,
        "traceback": "Traceback (most recent call last): secret",
        "children": [],
        "date_done": "2026-11-24T18:00:00+00:00",
        "task_id": task_id,
    }
    client.set(keys.celery_meta(task_id), json.dumps(meta))
    client.hset(keys.task_record(task_id), mapping={"state": status, "finished": time.time()})


def test_get_returns_state_times_and_attempts(api: ApiClient) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    response = api.call("GET", f"/v1/tasks/{task_id}")
    assert response.status == 200
    body = response.body
    assert body["state"] == "PENDING"
    assert body["task"] == "diagnostics.echo"
    assert body["queue"] == "default"
    assert body["submitted"].endswith("Z")
    assert body["started"] is None and body["finished"] is None
    assert body["attempts"] == 0


def test_success_shows_the_result(api: ApiClient, redis_client: redis.Redis) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    finish(redis_client, task_id, "SUCCESS", {"message": "x"})
    body = api.call("GET", f"/v1/tasks/{task_id}").body
    assert body["state"] == "SUCCESS"
    assert body["result"] == {"message": "x"}
    assert body["finished"] is not None


def test_failure_shows_a_bounded_error_without_traceback(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    exc = {"exc_type": "DiagnosticError", "exc_message": ["boom " * 1000], "exc_module": "workers"}
    finish(redis_client, task_id, "FAILURE", exc)
    body = api.call("GET", f"/v1/tasks/{task_id}").body
    assert body["state"] == "FAILURE"
    assert body["error"]["type"] == "DiagnosticError"
    assert body["error"]["message"].startswith("boom")
    assert len(body["error"]["message"]) <= 1000
    assert "Traceback" not in json.dumps(body)


def test_unknown_task_id_is_404_not_pending(api: ApiClient) -> None:
    response = api.call("GET", "/v1/tasks/00000000-0000-0000-0000-000000000000")
    assert response.status == 404
    assert response.body["error"]["code"] == "not_found"


def test_expired_record_is_404(api: ApiClient, redis_client: redis.Redis) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    redis_client.delete(keys.task_record(task_id))
    assert api.call("GET", f"/v1/tasks/{task_id}").status == 404


def test_cross_tenant_read_and_cancel_are_404(api: ApiClient, redis_client: redis.Redis) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    other = api.as_tenant("globex")
    assert other.call("GET", f"/v1/tasks/{task_id}").status == 404
    assert other.call("POST", f"/v1/tasks/{task_id}/cancel").status == 404
    assert not redis_client.exists(keys.cancel_flag(task_id))
    assert api.call("GET", f"/v1/tasks/{task_id}").body["state"] == "PENDING"


def test_tenant_falls_back_to_sub(api: ApiClient) -> None:
    client = api.as_tenant("")
    event = client.event(
        "POST", "/v1/tasks", body={"task": "diagnostics.echo", "args": {"message": "s"}}
    )
    del event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant"]
    from functions.api.handler import handler
    from tests.functional.conftest import LambdaContext

    result = handler(event, LambdaContext())
    assert result["statusCode"] == 202
    task_id = json.loads(result["body"])["id"]
    sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    assert api.as_tenant(sub).call("GET", f"/v1/tasks/{task_id}").status == 200


def test_cancel_of_a_queued_task_is_revoked_at_once(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    task_id = api.submit("diagnostics.sleep", {"seconds": 1, "steps": 2}).body["id"]
    response = api.call("POST", f"/v1/tasks/{task_id}/cancel")
    assert response.status == 202
    assert response.body == {"id": task_id, "state": "REVOKED"}
    assert redis_client.exists(keys.cancel_flag(task_id))
    assert api.call("GET", f"/v1/tasks/{task_id}").body["state"] == "REVOKED"
    # Cancelling again is fine.
    assert api.call("POST", f"/v1/tasks/{task_id}/cancel").status == 202


def test_cancel_of_a_running_task_sets_the_flag_and_keeps_it_running(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    task_id = api.submit("diagnostics.sleep", {"seconds": 1, "steps": 2}).body["id"]
    redis_client.hset(keys.task_record(task_id), "state", "PROGRESS")
    response = api.call("POST", f"/v1/tasks/{task_id}/cancel")
    assert response.status == 202
    assert response.body["state"] == "PROGRESS"
    assert redis_client.exists(keys.cancel_flag(task_id))


def test_cancel_of_a_finished_task_is_409(api: ApiClient, redis_client: redis.Redis) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    finish(redis_client, task_id, "SUCCESS", {"message": "x"})
    response = api.call("POST", f"/v1/tasks/{task_id}/cancel")
    assert response.status == 409
    assert response.body["error"]["code"] == "already_finished"


def test_list_pages_newest_first_and_filters(api: ApiClient, redis_client: redis.Redis) -> None:
    ids = [api.submit("diagnostics.echo", {"message": str(i)}).body["id"] for i in range(5)]
    sleeper = api.submit("diagnostics.sleep", {"seconds": 1, "steps": 1}).body["id"]
    api.as_tenant("globex").submit("diagnostics.echo", {"message": "other"})
    api.call("POST", f"/v1/tasks/{sleeper}/cancel")

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/v1/tasks", query=query)
        assert page.status == 200
        seen += [item["id"] for item in page.body["items"]]
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    # Every task once, none of the other tenant's, newest first (ties share a millisecond).
    assert sorted(seen) == sorted([sleeper, *ids])
    scores = [redis_client.zscore(keys.tenant_index("acme"), i) for i in seen]
    assert scores == sorted(scores, reverse=True)

    revoked = api.call("GET", "/v1/tasks", query={"state": "REVOKED"}).body["items"]
    assert [i["id"] for i in revoked] == [sleeper]
    echoes = api.call("GET", "/v1/tasks", query={"task": "diagnostics.echo"}).body["items"]
    assert len(echoes) == 5


def test_list_rejects_bad_filters(api: ApiClient) -> None:
    assert api.call("GET", "/v1/tasks", query={"state": "DONE"}).status == 400
    assert api.call("GET", "/v1/tasks", query={"task": "nope"}).status == 400
    assert api.call("GET", "/v1/tasks", query={"limit": "0"}).status == 400
    assert api.call("GET", "/v1/tasks", query={"cursor": "%%%"}).status == 400


def test_health_catalog_and_unknown_route(api: ApiClient) -> None:
    assert api.call("GET", "/v1/health").body == {"status": "ok"}
    catalog = api.call("GET", "/v1/catalog").body
    names = {t["name"] for t in catalog["tasks"]}
    assert {"diagnostics.echo", "diagnostics.sleep", "diagnostics.fail"} <= names
    echo = next(t for t in catalog["tasks"] if t["name"] == "diagnostics.echo")
    assert echo["args_schema"]["properties"]["message"]["maxLength"] == 10_000
    assert echo["schedules"][0]["name"] == "diagnostics.heartbeat"
    missing = api.call("GET", "/v1/nothing-here")
    assert missing.status == 404
    assert missing.body["error"]["code"] == "not_found"


def test_openapi_declares_the_submit_oneof_and_every_response(api: ApiClient) -> None:
    response = api.call("GET", "/v1/openapi.json")
    assert response.status == 200
    doc = response.body
    submit = doc["paths"]["/v1/tasks"]["post"]
    assert {"202", "400", "401", "403", "413", "422", "503"} <= set(submit["responses"])
    assert {"200", "404"} <= set(doc["paths"]["/v1/tasks/{id}"]["get"]["responses"])
    schema = json.dumps(submit["requestBody"])
    assert "oneOf" in schema or "discriminator" in json.dumps(doc["components"])
    assert "discriminator" in json.dumps(doc)
    docs_page = api.call("GET", "/v1/docs")
    assert docs_page.status == 200


def test_list_with_state_and_task_filters_finds_matches_behind_many_others(api: ApiClient) -> None:
    sleeper = api.submit("diagnostics.sleep", {"seconds": 1, "steps": 1}).body["id"]
    for i in range(30):
        api.submit("diagnostics.echo", {"message": str(i)})
    page = api.call(
        "GET", "/v1/tasks", query={"state": "PENDING", "task": "diagnostics.sleep", "limit": "1"}
    )
    assert [i["id"] for i in page.body["items"]] == [sleeper]
    assert page.body["next_cursor"] is None


def test_a_tenant_claim_that_could_alias_keys_is_refused(api: ApiClient) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "x"}).body["id"]
    sneaky = api.as_tenant("acme:state:PENDING")
    listing = sneaky.call("GET", "/v1/tasks")
    assert listing.status == 403
    assert task_id not in json.dumps(listing.body)


def test_system_tasks_are_readable_with_ops_read_but_only_admin_cancels(api: ApiClient) -> None:
    from tests.functional.conftest import load_event
    from tests.functional.test_scheduler import deliver

    task_id = deliver(load_event("scheduler_heartbeat.json"))["id"]
    ops = api.as_tenant("acme", scope="taskport/tasks:write taskport/ops:read")
    assert ops.call("GET", f"/v1/tasks/{task_id}").status == 200
    assert ops.call("POST", f"/v1/tasks/{task_id}/cancel").status == 403
    admin = api.as_tenant("acme", scope="taskport/admin")
    assert admin.call("POST", f"/v1/tasks/{task_id}/cancel").status == 202
