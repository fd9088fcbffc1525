"""Emails sent in local mode, read back from moto's SES backend (``/moto-api/data.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# moto keeps every sent message under these model names of its "ses" service (SES v2 too).
_MESSAGE_MODELS: Final = ("Message", "RawMessage", "TemplateMessage", "BulkTemplateMessage")


@dataclass(frozen=True)
class SentEmail:
    kind: str
    message_id: str
    source: str
    destinations: dict[str, Any]
    subject: str
    body: str


def sent_emails(data: dict[str, Any]) -> list[SentEmail]:
    ses = data.get("ses") or {}
    found = []
    for kind in _MESSAGE_MODELS:
        for item in ses.get(kind) or []:
            destinations = item.get("destinations") or {}
            if isinstance(destinations, list):
                destinations = {"ToAddresses": destinations}
            found.append(
                SentEmail(
                    kind=kind,
                    message_id=str(item.get("id", "")),
                    source=str(item.get("source", "")),
                    destinations=destinations,
                    subject=str(item.get("subject") or item.get("template") or ""),
                    body=str(
                        item.get("body") or item.get("raw_data") or item.get("template_data") or ""
                    ),
                )
            )
    return found


def fetch(moto_url: str) -> list[SentEmail]:
    import httpx

    answer = httpx.get(f"{moto_url.rstrip('/')}/moto-api/data.json", timeout=10)
    answer.raise_for_status()
    return sent_emails(answer.json())
