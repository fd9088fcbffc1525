"""Who is calling: tenant and scopes from the JWT claims as HTTP API delivers them.

HTTP API passes every claim as a string (numbers and arrays stringified); ``scope`` is
space-separated and carries the issuer's prefix (``taskport/tasks:write``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from functions.api.errors import ApiError
from workers.contract import scopes as scope_names
from workers.contract.headers import SYSTEM_TENANT, TENANT_CLAIM
from workers.contract.settings import core_settings


@dataclass(frozen=True)
class Identity:
    tenant: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes or scope_names.ADMIN in self.scopes

    def require(self, scope: str) -> None:
        if not self.has(scope):
            raise ApiError(403, "forbidden", f"this call needs the '{scope}' scope")

    def can_change(self, owner: str) -> bool:
        """Changes (cancel) need ownership; system tasks only by admin."""
        if owner == self.tenant:
            return True
        return owner == SYSTEM_TENANT and scope_names.ADMIN in self.scopes

    def can_read(self, owner: str) -> bool:
        """Every read is scoped to the caller's tenant; system tasks need ops:read."""
        if owner == self.tenant:
            return True
        return owner == SYSTEM_TENANT and self.has(scope_names.OPS_READ)


_TENANT = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


def identity_from_event(raw_event: dict[str, Any]) -> Identity:
    claims = (
        ((raw_event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}
    ).get("claims") or {}
    tenant = str(claims.get(TENANT_CLAIM) or claims.get("sub") or "")
    if not tenant:
        raise ApiError(401, "unauthorized", "the token carries no tenant or sub claim")
    # The tenant becomes part of Redis key names: a ':' (or anything exotic) could make
    # one tenant's key name another tenant's (``acme:state:PENDING``).
    if not _TENANT.match(tenant):
        raise ApiError(403, "forbidden", "the token's tenant claim is not a valid tenant id")
    prefix = core_settings().scope_prefix
    granted = set()
    # ``scope`` is space-separated; some issuers send ``scp``, which HTTP API also honours
    # (a list, delivered stringified as "[a b]").
    raw_scopes = str(claims.get("scope") or "").split()
    raw_scopes += str(claims.get("scp") or "").strip("[]").replace(",", " ").split()
    for item in raw_scopes:
        if item.startswith(prefix):
            granted.add(item[len(prefix) :])
    return Identity(tenant=tenant, scopes=frozenset(granted))
