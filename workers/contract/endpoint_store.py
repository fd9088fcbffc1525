"""Webhook endpoints in DynamoDB: the API registers/rotates/deletes, workers read/disable.

One item per endpoint under the tenant's partition (``workers.contract.table``). Signing
secrets are sealed with KMS (``workers.contract.sealing``); the plaintext ``whsec_...`` is
returned once, at creation or rotation, and never stored, logged or returned again. A
rotation keeps the previous secret valid until its ``expires`` (both signatures are sent).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from workers.contract import sealing, table

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
ENDPOINT_ID_PREFIX = "ep_"
MAX_ENDPOINTS_LISTED = 100


class EndpointChanged(Exception):
    """The endpoint was deleted or its secrets rotated since it was read; read it again."""


@dataclass(frozen=True)
class SecretVersion:
    version: int
    sealed: dict[str, str]
    created: float
    expires: float | None = None  # None: current

    def active(self, now: float) -> bool:
        return self.expires is None or self.expires > now


@dataclass(frozen=True)
class Endpoint:
    tenant: str
    id: str
    url: str
    description: str
    event_types: tuple[str, ...]
    created: float
    disabled: bool = False
    disabled_reason: str = ""
    secrets: tuple[SecretVersion, ...] = field(default_factory=tuple)

    def accepts(self, event_type: str) -> bool:
        """An empty list of event types subscribes to every type."""
        return not self.event_types or event_type in self.event_types

    def public(self) -> dict[str, Any]:
        """What the API shows: never a secret, sealed or not."""
        return {
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "event_types": list(self.event_types),
            "created": self.created,
            "disabled": self.disabled,
            "disabled_reason": self.disabled_reason or None,
            "secret_versions": len([s for s in self.secrets if s.active(time.time())]),
        }


def new_secret() -> tuple[str, bytes]:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    raw = secrets.token_bytes(32)
    return SECRET_PREFIX + base64.b64encode(raw).decode(), raw


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def _context(tenant: str, endpoint_id: str, version: int) -> dict[str, str]:
    return {"tenant": tenant, "endpoint": endpoint_id, "version": str(version)}


def _to_item(ep: Endpoint) -> dict[str, Any]:
    return {
        **table.endpoint_key(ep.tenant, ep.id),
        "url": ep.url,
        "description": ep.description,
        "event_types": list(ep.event_types),
        "created": str(ep.created),
        "disabled": ep.disabled,
        "disabled_reason": ep.disabled_reason,
        "secrets": [
            {
                "version": s.version,
                "sealed": s.sealed,
                "created": str(s.created),
                **({"expires": str(s.expires)} if s.expires is not None else {}),
            }
            for s in ep.secrets
        ],
    }


def _from_item(tenant: str, item: dict[str, Any]) -> Endpoint:
    return Endpoint(
        tenant=tenant,
        id=str(item[table.SORT_KEY]).removeprefix(table.ENDPOINT_PREFIX),
        url=str(item["url"]),
        description=str(item.get("description", "")),
        event_types=tuple(str(t) for t in item.get("event_types", [])),
        created=float(item["created"]),
        disabled=bool(item.get("disabled", False)),
        disabled_reason=str(item.get("disabled_reason", "")),
        secrets=tuple(
            SecretVersion(
                version=int(s["version"]),
                sealed={k: str(v) for k, v in s["sealed"].items()},
                created=float(s["created"]),
                expires=float(s["expires"]) if "expires" in s else None,
            )
            for s in item.get("secrets", [])
        ),
    )


def create(
    tbl: Any,
    kms: Any,
    key_id: str,
    *,
    tenant: str,
    url: str,
    description: str,
    event_types: Iterable[str],
    now: float | None = None,
) -> tuple[Endpoint, str]:
    now = time.time() if now is None else now
    endpoint_id = ENDPOINT_ID_PREFIX + secrets.token_hex(12)
    secret, raw = new_secret()
    sealed = sealing.seal(kms, key_id, raw, _context(tenant, endpoint_id, 1))
    ep = Endpoint(
        tenant=tenant,
        id=endpoint_id,
        url=url,
        description=description,
        event_types=tuple(dict.fromkeys(event_types)),
        created=now,
        secrets=(SecretVersion(version=1, sealed=sealed, created=now),),
    )
    tbl.put_item(
        Item=_to_item(ep),
        ConditionExpression="attribute_not_exists(#pk)",
        ExpressionAttributeNames={"#pk": table.PARTITION_KEY},
    )
    return ep, secret


def get(tbl: Any, tenant: str, endpoint_id: str) -> Endpoint | None:
    item = tbl.get_item(Key=table.endpoint_key(tenant, endpoint_id), ConsistentRead=True).get(
        "Item"
    )
    return _from_item(tenant, item) if item else None


def list_endpoints(tbl: Any, tenant: str) -> list[Endpoint]:
    from boto3.dynamodb.conditions import Key

    response = tbl.query(
        KeyConditionExpression=Key(table.PARTITION_KEY).eq(table.tenant_partition(tenant))
        & Key(table.SORT_KEY).begins_with(table.ENDPOINT_PREFIX),
        Limit=MAX_ENDPOINTS_LISTED,
    )
    return [_from_item(tenant, item) for item in response.get("Items", [])]


def delete(tbl: Any, tenant: str, endpoint_id: str) -> bool:
    response = tbl.delete_item(Key=table.endpoint_key(tenant, endpoint_id), ReturnValues="ALL_OLD")
    return bool(response.get("Attributes"))


def rotate(
    tbl: Any,
    kms: Any,
    key_id: str,
    ep: Endpoint,
    *,
    grace_seconds: float,
    now: float | None = None,
) -> tuple[Endpoint, str]:
    """A new current secret; the previous one stays valid for ``grace_seconds``."""
    now = time.time() if now is None else now
    version = max((s.version for s in ep.secrets), default=0) + 1
    secret, raw = new_secret()
    sealed = sealing.seal(kms, key_id, raw, _context(ep.tenant, ep.id, version))
    kept = []
    for s in ep.secrets:
        if not s.active(now):
            continue
        expires = now + grace_seconds if s.expires is None else min(s.expires, now + grace_seconds)
        if expires > now:
            kept.append(SecretVersion(s.version, s.sealed, s.created, expires))
    updated = Endpoint(
        **{
            **ep.__dict__,
            "secrets": (*kept, SecretVersion(version=version, sealed=sealed, created=now)),
        }
    )
    # Only the secrets change, and only if they are still the ones read: a rewrite of the
    # whole item would undo a concurrent disable (410 Gone), and two concurrent rotations
    # would each return a secret while only one of them is kept.
    last = len(ep.secrets) - 1
    condition = "attribute_exists(#pk) AND size(#secrets) = :count"
    values: dict[str, Any] = {":secrets": _to_item(updated)["secrets"], ":count": len(ep.secrets)}
    if last >= 0:
        condition += f" AND #secrets[{last}].#version = :version"
        values[":version"] = ep.secrets[last].version
    try:
        tbl.update_item(
            Key=table.endpoint_key(ep.tenant, ep.id),
            UpdateExpression="SET #secrets = :secrets",
            ConditionExpression=condition,
            ExpressionAttributeNames={
                "#pk": table.PARTITION_KEY,
                "#secrets": "secrets",
                **({"#version": "version"} if last >= 0 else {}),
            },
            ExpressionAttributeValues=values,
        )
    except tbl.meta.client.exceptions.ConditionalCheckFailedException:
        raise EndpointChanged(ep.id) from None
    return updated, secret


def disable(tbl: Any, tenant: str, endpoint_id: str, reason: str) -> None:
    tbl.update_item(
        Key=table.endpoint_key(tenant, endpoint_id),
        UpdateExpression="SET disabled = :t, disabled_reason = :r",
        ConditionExpression="attribute_exists(#pk)",
        ExpressionAttributeNames={"#pk": table.PARTITION_KEY},
        ExpressionAttributeValues={":t": True, ":r": reason[:200]},
    )


def signing_keys(kms: Any, ep: Endpoint, now: float | None = None) -> list[bytes]:
    """The raw keys to sign with, newest first (two during a rotation's grace period)."""
    now = time.time() if now is None else now
    active = sorted((s for s in ep.secrets if s.active(now)), key=lambda s: -s.version)
    return [unseal_version(kms, ep, s) for s in active]


def unseal_version(kms: Any, ep: Endpoint, version: SecretVersion) -> bytes:
    return sealing.unseal(kms, version.sealed, _context(ep.tenant, ep.id, version.version))
