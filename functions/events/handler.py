"""EventBridge events other than schedules: ``functions/events/handler.py:handler``.

SES bounce/complaint events become suppressions; anything else (S3 object created is for
a later issue) is logged and ignored cleanly, so a new rule never makes this Lambda fail.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.events import ses_feedback
from workers.contract import aws_clients
from workers.contract.notify_settings import notify_settings

logger = Logger(service="taskport-events")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail_type = str(event.get("detail-type") or "")
    if event.get("source") == ses_feedback.SOURCE and detail_type in ses_feedback.DETAIL_TYPES:
        feedback = ses_feedback.parse(event)
        if feedback.tenant is None:
            logger.warning("SES event without the tenant tag", extra={"detail_type": detail_type})
            return {"handled": False, "reason": "no tenant tag"}
        table = aws_clients.table(notify_settings().table_name)
        count = ses_feedback.record(table, feedback)
        # Addresses are personal data: log counts, not addresses.
        logger.info(
            "SES feedback",
            extra={"detail_type": detail_type, "suppressed": count, "tenant": feedback.tenant},
        )
        return {"handled": True, "suppressed": count}
    logger.info("event ignored", extra={"source": event.get("source"), "detail_type": detail_type})
    return {"handled": False, "reason": "unsupported event"}
