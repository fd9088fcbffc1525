"""The DynamoDB table's key schema (durable tenant data, DESIGN 4), defined once.

CDK creates the table from these names, local mode creates it in moto from them, and the
data-access code builds keys with them. Items are partitioned by tenant.
"""

from typing import Any, Final

PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
KEY_TYPE: Final = "S"  # both keys are strings


def tenant_partition(tenant: str) -> str:
    return f"TENANT#{tenant}"


# ---- notifications (issue 4): item keys and the table definition ----
ENDPOINT_PREFIX: Final = "WEBHOOK#"
SUPPRESSION_PREFIX: Final = "SUPPRESS#"


def endpoint_key(tenant: str, endpoint_id: str) -> dict[str, str]:
    """A webhook endpoint (url, event types, KMS-sealed secrets) of a tenant."""
    return {PARTITION_KEY: tenant_partition(tenant), SORT_KEY: f"{ENDPOINT_PREFIX}{endpoint_id}"}


def suppression_key(tenant: str, address: str) -> dict[str, str]:
    """A suppressed recipient of a tenant (``address`` already normalized)."""
    return {PARTITION_KEY: tenant_partition(tenant), SORT_KEY: f"{SUPPRESSION_PREFIX}{address}"}


def table_definition() -> dict[str, Any]:
    """Keyword arguments for DynamoDB ``CreateTable`` (local mode and tests; CDK mirrors it)."""
    return {
        "AttributeDefinitions": [
            {"AttributeName": PARTITION_KEY, "AttributeType": KEY_TYPE},
            {"AttributeName": SORT_KEY, "AttributeType": KEY_TYPE},
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
