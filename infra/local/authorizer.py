"""What the HTTP API JWT authorizer enforces before a protected route reaches the Lambda.

401 ``{"message":"Unauthorized"}`` for a missing, malformed, badly signed, expired or
wrong-issuer/audience token; 403 ``{"message":"Forbidden"}`` when the token lacks every
scope the route accepts. Public routes and ``$default`` have no authorizer.
"""

from __future__ import annotations

from typing import Any

import jwt

from functions.api.routes import Route
from infra.local import tokens


class Unauthorized(Exception):
    status = 401
    message = "Unauthorized"


class Forbidden(Exception):
    status = 403
    message = "Forbidden"


def bearer_token(authorization: str | None) -> str | None:
    """The token in an Authorization header; API Gateway accepts it with or without ``Bearer``."""
    if not authorization:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def token_scopes(claims: dict[str, Any]) -> set[str]:
    # API Gateway reads ``scope`` (space-separated) or ``scp`` (a list).
    found = set(str(claims.get("scope", "")).split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        found.update(str(s) for s in scp)
    elif isinstance(scp, str):
        found.update(scp.split())
    return found


class JwtAuthorizer:
    def __init__(self, public_pem: bytes, scope_prefix: str) -> None:
        self._public_pem = public_pem
        self._prefix = scope_prefix

    def authorize(self, route: Route, authorization: str | None) -> dict[str, Any]:
        """The verified claims for a protected ``route``; raises Unauthorized / Forbidden."""
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized
        try:
            claims = tokens.verify(self._public_pem, token)
        except jwt.InvalidTokenError:
            raise Unauthorized from None
        required = {self._prefix + s for s in route.scopes}
        if not required & token_scopes(claims):
            raise Forbidden
        return claims
