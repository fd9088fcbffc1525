"""The DynamoDB table's key schema (durable tenant data, DESIGN 4), defined once.

CDK creates the table from these names, local mode creates it in moto from them, and the
data-access code builds keys with them. Items are partitioned by tenant.
"""

from typing import Final

PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
KEY_TYPE: Final = "S"  # both keys are strings


def tenant_partition(tenant: str) -> str:
    return f"TENANT#{tenant}"
