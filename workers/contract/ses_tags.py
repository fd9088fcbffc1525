"""SES message tags taskport reserves, and the tenant's encoding into a tag value.

Every email carries the submitting tenant as a message tag, so bounce and complaint
events (which echo the tags) are attributed to the right tenant. SES tag values allow
only ASCII letters, digits, ``_`` and ``-``: other tenants are base32-encoded behind a
prefix (and so is any tenant that starts with the prefix, so decoding is unambiguous).
"""

import base64
import re
from typing import Final

TENANT_TAG: Final = "taskport-tenant"
# Client tags may not use these names (nor SES's own ``ses:`` namespace).
RESERVED_PREFIXES: Final = ("taskport", "ses:")
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ENCODED: Final = "b32_"


def is_reserved(name: str) -> bool:
    return name.lower().startswith(RESERVED_PREFIXES)


def encode_tenant(tenant: str) -> str:
    if _SAFE.match(tenant) and not tenant.startswith(_ENCODED):
        return tenant
    return _ENCODED + base64.b32encode(tenant.encode()).decode().rstrip("=")


def decode_tenant(value: str) -> str:
    if not value.startswith(_ENCODED):
        return value
    body = value[len(_ENCODED) :]
    return base64.b32decode(body + "=" * (-len(body) % 8)).decode()
