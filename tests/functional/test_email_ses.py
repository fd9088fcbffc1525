"""Email against moto's SES v2 in-process: what is *sent* (botocore hook, since moto drops
the configuration set, tags and reply-to), each SES error class parsed from a real error
response by botocore, and the ops alert.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from workers.catalog import SendEmailArgs
from workers.contract import aws_clients, keys, ses_tags
from workers.contract.notify_settings import NotificationSettings
from workers.notifications import alerts, email_sending, ses_faults
from workers.notifications.errors import (
    EmailQuotaExceeded,
    EmailRejected,
    SendingDisabled,
    TransientEmailError,
)

SENDER = "noreply@example.com"
SETTINGS = NotificationSettings(
    email_from=SENDER, configuration_set="taskport-cs", alert_recipients=("ops@example.com",)
)


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws_clients.reset()
        client = aws_clients.client("sesv2", max_attempts=1)
        client.create_email_identity(EmailIdentity=SENDER)
        yield client
        aws_clients.reset()


def captured(client: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "before-call.sesv2.SendEmail", lambda params, **_: sent.append(params["body"])
    )
    return sent


def request_for(tenant: str, **extra: Any) -> dict[str, Any]:
    payload = SendEmailArgs.model_validate(
        {"to": ["a@example.com"], "subject": "s", "text": "t", **extra}
    ).model_dump()
    rcpt = email_sending.filter_suppressed(payload, set())
    return email_sending.build_request(SETTINGS, tenant, payload, rcpt)


def test_send_carries_configuration_set_sender_and_tenant_tag(ses: Any) -> None:
    sent = captured(ses)
    message_id = email_sending.send(
        ses, request_for("tenant/with odd chars", reply_to=["r@example.com"], tags={"k": "v"})
    )
    assert message_id
    [body] = sent
    import json

    wire = json.loads(body)
    assert wire["ConfigurationSetName"] == "taskport-cs"
    assert wire["FromEmailAddress"] == SENDER
    assert wire["ReplyToAddresses"] == ["r@example.com"]
    tags = {t["Name"]: t["Value"] for t in wire["EmailTags"]}
    assert ses_tags.decode_tenant(tags[ses_tags.TENANT_TAG]) == "tenant/with odd chars"
    assert tags["k"] == "v"
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    assert len(backend.sent_messages) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("TooManyRequestsException", TransientEmailError),
        ("InternalFailure", TransientEmailError),
        ("LimitExceededException", EmailQuotaExceeded),
        ("MessageRejected", EmailRejected),
        ("MailFromDomainNotVerifiedException", EmailRejected),
        ("NotFoundException", EmailRejected),
        ("BadRequestException", EmailRejected),
        ("SendingPausedException", SendingDisabled),
        ("AccountSuspendedException", SendingDisabled),
    ],
)
def test_error_classes_from_real_error_responses(
    ses: Any, code: str, error: type[Exception]
) -> None:
    faults = [code]
    ses.meta.events.register_first(
        "before-send.sesv2.SendEmail",
        ses_faults.hook(lambda: faults.pop(0) if faults else None),
    )
    with pytest.raises(error, match=code):
        email_sending.send(ses, request_for("acme"))
    # The next call goes through to moto: the hook injected exactly one failure.
    assert email_sending.send(ses, request_for("acme"))


def test_unverified_sender_is_rejected_by_moto(ses: Any) -> None:
    request = request_for("acme")
    request["FromEmailAddress"] = "stranger@elsewhere.example"
    with pytest.raises(EmailRejected):
        email_sending.send(ses, request)


def test_alert_reaches_the_alert_recipients_and_is_recorded(ses: Any, redis_client: Any) -> None:
    sent = captured(ses)
    assert alerts.send_alert(redis_client, ses, SETTINGS, subject="sending paused", text="x")
    assert b"ops@example.com" in sent[0]
    assert alerts.recent_alerts(redis_client)[0]["subject"] == "sending paused"
    assert redis_client.llen(keys.ALERTS) == 1


def test_alert_is_recorded_even_when_ses_refuses(ses: Any, redis_client: Any) -> None:
    ses.meta.events.register_first(
        "before-send.sesv2.SendEmail",
        ses_faults.hook(lambda: "SendingPausedException"),
    )
    assert not alerts.send_alert(redis_client, ses, SETTINGS, subject="paused", text="x")
    assert alerts.recent_alerts(redis_client)[0]["subject"] == "paused"
