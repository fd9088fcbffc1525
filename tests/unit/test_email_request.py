"""Email arguments (validated at submit), the SendEmail request, and error classes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workers.catalog import SendEmailArgs
from workers.contract import ses_tags
from workers.contract.notify_settings import NotificationSettings
from workers.notifications import email_sending
from workers.notifications.errors import (
    EmailQuotaExceeded,
    EmailRejected,
    SendingDisabled,
    TransientEmailError,
)

SETTINGS = NotificationSettings(email_from="noreply@example.com", configuration_set="cs-1")


def args(**extra: object) -> dict[str, object]:
    return {"to": ["a@example.com"], "subject": "hi", "text": "body", **extra}


def test_valid_arguments() -> None:
    model = SendEmailArgs.model_validate(args(cc=["b@example.com"], tags={"campaign": "x"}))
    assert model.cc == ["b@example.com"]


@pytest.mark.parametrize(
    "bad",
    [
        {
            "to": [f"u{i}@example.com" for i in range(30)],
            "cc": [f"c{i}@example.com" for i in range(21)],
        },
        {"to": []},
        {"to": ["not-an-address"]},
        {"to": ["a@example.com, b@example.com"]},
        {"text": None},
        {"subject": "line\r\nBcc: x@example.com"},
        {"tags": {"taskport-tenant": "other"}},
        {"tags": {"ses:configuration-set": "x"}},
        {"tags": {"bad name": "x"}},
        {"unknown": 1},
    ],
)
def test_invalid_arguments(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SendEmailArgs.model_validate({**args(), **bad})


def test_request_uses_settings_and_tags_the_tenant() -> None:
    payload = args(reply_to=["r@example.com"], html="<b>x</b>", tags={"k": "v"})
    rcpt = email_sending.filter_suppressed(payload, set())
    request = email_sending.build_request(SETTINGS, "acme", payload, rcpt)
    assert request["FromEmailAddress"] == "noreply@example.com"
    assert request["ConfigurationSetName"] == "cs-1"
    assert request["ReplyToAddresses"] == ["r@example.com"]
    assert {"Name": ses_tags.TENANT_TAG, "Value": "acme"} in request["EmailTags"]
    assert {"Name": "k", "Value": "v"} in request["EmailTags"]
    assert set(request["Content"]["Simple"]["Body"]) == {"Text", "Html"}


def test_suppressed_and_duplicate_recipients_are_dropped() -> None:
    payload = args(
        to=["A@example.com", "b@example.com"], cc=["a@example.com"], bcc=["c@example.com"]
    )
    rcpt = email_sending.filter_suppressed(payload, {"b@example.com"})
    assert rcpt.to == ["A@example.com"] and rcpt.cc == [] and rcpt.bcc == ["c@example.com"]
    assert rcpt.suppressed == ["b@example.com"] and rcpt.count == 2


@pytest.mark.parametrize("tenant", ["acme", "tenant with spaces", "b32_sneaky", "ünï", "a/b"])
def test_tenant_tag_round_trip(tenant: str) -> None:
    value = ses_tags.encode_tenant(tenant)
    assert all(c.isalnum() or c in "_-" for c in value)
    assert ses_tags.decode_tenant(value) == tenant


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("TooManyRequestsException", 429, TransientEmailError),
        ("InternalFailure", 500, TransientEmailError),
        ("SomethingNew", 503, TransientEmailError),
        ("LimitExceededException", 400, EmailQuotaExceeded),
        ("MessageRejected", 400, EmailRejected),
        ("MailFromDomainNotVerifiedException", 400, EmailRejected),
        ("NotFoundException", 404, EmailRejected),
        ("BadRequestException", 400, EmailRejected),
        ("SendingPausedException", 400, SendingDisabled),
        ("AccountSuspendedException", 400, SendingDisabled),
    ],
)
def test_error_classes(code: str, status: int, error: type[Exception]) -> None:
    assert isinstance(email_sending.classify(code, "m", status), error)
