"""Email suppressions in DynamoDB: written from SES bounce/complaint events, read per send.

Per tenant (a bounce of one tenant's mail does not silence another tenant's), keyed by
the normalized address. Only permanent bounces and complaints suppress.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from workers.contract import table
from workers.contract.email_address import normalized

BOUNCE = "bounce"
COMPLAINT = "complaint"
_BATCH = 100  # BatchGetItem's limit


def suppress(
    tbl: Any,
    tenant: str,
    address: str,
    *,
    reason: str,
    detail: str = "",
    now: float | None = None,
) -> None:
    tbl.put_item(
        Item={
            **table.suppression_key(tenant, normalized(address)),
            "reason": reason,
            "detail": detail[:500],
            "at": str(time.time() if now is None else now),
        }
    )


def suppressed(dynamodb: Any, table_name: str, tenant: str, addresses: Iterable[str]) -> set[str]:
    """The normalized addresses among ``addresses`` that are suppressed for ``tenant``.

    ``dynamodb`` is the low-level client (BatchGetItem with projection, one call per 100).
    """
    wanted = sorted({normalized(a) for a in addresses})
    found: set[str] = set()
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        request: dict[str, Any] = {
            table_name: {
                "Keys": [
                    {k: {"S": v} for k, v in table.suppression_key(tenant, a).items()}
                    for a in chunk
                ],
                "ProjectionExpression": "#sk",
                "ExpressionAttributeNames": {"#sk": table.SORT_KEY},
            }
        }
        for _ in range(5):  # unprocessed keys come back under load; bounded
            response = dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table_name, []):
                found.add(item[table.SORT_KEY]["S"].removeprefix(table.SUPPRESSION_PREFIX))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
    return found
