"""Email with SES v2: the request, the error classes, suppression filtering (no Celery here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from workers.contract import ses_tags, suppressions
from workers.contract.email_address import normalized
from workers.contract.notify_settings import NotificationSettings
from workers.notifications.errors import (
    EmailQuotaExceeded,
    EmailRejected,
    SendingDisabled,
    TransientEmailError,
)

# SES v2 error codes -> what taskport does (issue 4).
TRANSIENT = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "InternalFailure",
        "ServiceUnavailable",
        "InternalServerError",
        "RequestTimeout",
    }
)
QUOTA = frozenset({"LimitExceededException"})
REJECTED = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
        "BadRequestException",
    }
)
SENDING_DISABLED = frozenset({"SendingPausedException", "AccountSuspendedException"})


@dataclass(frozen=True)
class Recipients:
    to: list[str]
    cc: list[str]
    bcc: list[str]
    suppressed: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.to) + len(self.cc) + len(self.bcc)


def filter_suppressed(args: Mapping[str, Any], suppressed: set[str]) -> Recipients:
    """Drop suppressed addresses (and duplicates across to/cc/bcc: SES would count them)."""
    seen: set[str] = set()
    dropped: list[str] = []

    def keep(addresses: list[str]) -> list[str]:
        kept = []
        for address in addresses:
            key = normalized(address)
            if key in suppressed:
                dropped.append(address)
            elif key not in seen:
                seen.add(key)
                kept.append(address)
        return kept

    return Recipients(
        to=keep(list(args["to"])),
        cc=keep(list(args.get("cc") or [])),
        bcc=keep(list(args.get("bcc") or [])),
        suppressed=dropped,
    )


def suppressed_for(
    dynamodb: Any, settings: NotificationSettings, tenant: str, args: Mapping[str, Any]
) -> set[str]:
    everyone = [*args["to"], *(args.get("cc") or []), *(args.get("bcc") or [])]
    return suppressions.suppressed(dynamodb, settings.table_name, tenant, everyone)


def build_request(
    settings: NotificationSettings, tenant: str, args: Mapping[str, Any], rcpt: Recipients
) -> dict[str, Any]:
    """The SendEmail request: configured sender and configuration set, tenant tag."""
    body: dict[str, Any] = {}
    if args.get("text"):
        body["Text"] = {"Data": args["text"], "Charset": "UTF-8"}
    if args.get("html"):
        body["Html"] = {"Data": args["html"], "Charset": "UTF-8"}
    destination: dict[str, list[str]] = {"ToAddresses": rcpt.to}
    if rcpt.cc:
        destination["CcAddresses"] = rcpt.cc
    if rcpt.bcc:
        destination["BccAddresses"] = rcpt.bcc
    tags = [{"Name": ses_tags.TENANT_TAG, "Value": ses_tags.encode_tenant(tenant)}]
    tags += [{"Name": k, "Value": v} for k, v in sorted((args.get("tags") or {}).items())]
    request: dict[str, Any] = {
        "FromEmailAddress": settings.email_from,
        "Destination": destination,
        "Content": {
            "Simple": {"Subject": {"Data": args["subject"], "Charset": "UTF-8"}, "Body": body}
        },
        "EmailTags": tags,
        "ConfigurationSetName": settings.configuration_set,
    }
    if args.get("reply_to"):
        request["ReplyToAddresses"] = list(args["reply_to"])
    return request


def classify(code: str, message: str, status: int | None = None) -> Exception:
    """The taskport error for an SES error code (unknown 5xx: transient; else rejected)."""
    text = f"SES {code}: {message}"[:500]
    if code in TRANSIENT or (code not in REJECTED and status is not None and status >= 500):
        return TransientEmailError(text)
    if code in QUOTA:
        return EmailQuotaExceeded(text)
    if code in SENDING_DISABLED:
        return SendingDisabled(text)
    return EmailRejected(text)


def send(ses: Any, request: Mapping[str, Any]) -> str:
    """Send; returns SES's MessageId or raises a classified error."""
    try:
        response = ses.send_email(**request)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        raise classify(str(error.get("Code", "")), str(error.get("Message", "")), status) from None
    except (BotoConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        raise TransientEmailError(f"SES unreachable: {type(exc).__name__}") from None
    return str(response["MessageId"])


def outcome(message_id: str, rcpt: Recipients, sent_at: float) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "sent_to": rcpt.count,
        "suppressed": rcpt.suppressed,
        "sent_at": sent_at,
    }
