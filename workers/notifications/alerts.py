"""Ops alerts: recorded in Redis (ops can read them) and emailed to the alert recipients.

The email is best effort: the alerts that matter most (sending paused, account suspended)
are exactly the ones SES will refuse to email, so the record and the log line come first.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from workers.contract import keys
from workers.contract.notify_settings import NotificationSettings

log = logging.getLogger(__name__)


def send_alert(
    redis_client: Any,
    ses: Any,
    settings: NotificationSettings,
    *,
    subject: str,
    text: str,
) -> bool:
    """Record and email an alert; returns whether the email went out."""
    entry = {"at": time.time(), "subject": subject[:200], "text": text[:2000]}
    log.critical("ALERT %s: %s", entry["subject"], entry["text"])
    try:
        pipe = redis_client.pipeline()
        pipe.lpush(keys.ALERTS, json.dumps(entry))
        pipe.ltrim(keys.ALERTS, 0, keys.ALERTS_KEPT - 1)
        pipe.execute()
    except Exception:
        log.warning("could not record the alert in Redis", exc_info=True)
    if not settings.alert_recipients:
        return False
    try:
        ses.send_email(
            FromEmailAddress=settings.email_from,
            Destination={"ToAddresses": list(settings.alert_recipients)},
            Content={
                "Simple": {
                    "Subject": {"Data": f"[taskport alert] {entry['subject']}"},
                    "Body": {"Text": {"Data": entry["text"]}},
                }
            },
            ConfigurationSetName=settings.configuration_set,
        )
    except Exception:
        log.warning("could not email the alert", exc_info=True)
        return False
    return True


def recent_alerts(redis_client: Any, limit: int = 20) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in redis_client.lrange(keys.ALERTS, 0, limit - 1)]
