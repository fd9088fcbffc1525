"""SES bounce and complaint events (EventBridge, from the configuration set) -> suppressions.

Only permanent bounces and complaints suppress an address; transient and undetermined
bounces do not (SES itself retried those). The tenant comes from the message tag taskport
sets on every email (``workers.contract.ses_tags``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workers.contract import ses_tags, suppressions

SOURCE = "aws.ses"  # the EventBridge source of SES events (CDK's rule matches it)
BOUNCED = "Email Bounced"
COMPLAINED = "Email Complaint Received"
DETAIL_TYPES = (BOUNCED, COMPLAINED)


@dataclass
class Feedback:
    tenant: str | None
    reason: str | None  # bounce | complaint | None (nothing to suppress)
    addresses: list[str] = field(default_factory=list)
    detail: str = ""


def tenant_of(mail: Mapping[str, Any]) -> str | None:
    values = (mail.get("tags") or {}).get(ses_tags.TENANT_TAG) or []
    return ses_tags.decode_tenant(str(values[0])) if values else None


def parse(event: Mapping[str, Any]) -> Feedback:
    detail = event.get("detail") or {}
    tenant = tenant_of(detail.get("mail") or {})
    if event.get("detail-type") == BOUNCED:
        bounce = detail.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return Feedback(tenant, None, detail=f"{bounce.get('bounceType')} bounce ignored")
        return Feedback(
            tenant,
            suppressions.BOUNCE,
            [str(r["emailAddress"]) for r in bounce.get("bouncedRecipients", [])],
            f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}",
        )
    if event.get("detail-type") == COMPLAINED:
        complaint = detail.get("complaint") or {}
        return Feedback(
            tenant,
            suppressions.COMPLAINT,
            [str(r["emailAddress"]) for r in complaint.get("complainedRecipients", [])],
            str(complaint.get("complaintFeedbackType") or "complaint"),
        )
    return Feedback(tenant, None)


def record(tbl: Any, feedback: Feedback) -> int:
    """Write the suppressions; returns how many addresses were suppressed."""
    if feedback.reason is None or feedback.tenant is None:
        return 0
    for address in feedback.addresses:
        suppressions.suppress(
            tbl, feedback.tenant, address, reason=feedback.reason, detail=feedback.detail
        )
    return len(feedback.addresses)
