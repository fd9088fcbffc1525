"""The AWS resources local mode creates in moto at start, from the definitions the code uses.

Each step creates one resource and returns the environment variables that point the
workers and handlers at it (merged into every child's environment). Add a step for each
new resource (KMS key, buckets, ...) and list it in ``STEPS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

from workers.contract import table
from workers.contract.settings import ENV_EMAIL_FROM, ENV_TABLE, CoreSettings

# The sender local mode verifies when TASKPORT_EMAIL_FROM is not set (moto rejects
# unverified senders just like SES in the sandbox).
LOCAL_EMAIL_FROM: Final = "taskport@example.com"

Step = Callable[[Any, Mapping[str, str]], dict[str, str]]


def _session(endpoint_url: str, region: str) -> Any:
    import boto3

    session: Any = boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's dummy credentials
        region_name=region,
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    return client


def verified_sender(client: Any, env: Mapping[str, str]) -> dict[str, str]:
    sender = env.get(ENV_EMAIL_FROM) or LOCAL_EMAIL_FROM
    client("sesv2").create_email_identity(EmailIdentity=sender)
    return {ENV_EMAIL_FROM: sender}


def dynamodb_table(client: Any, env: Mapping[str, str]) -> dict[str, str]:
    name = env.get(ENV_TABLE) or CoreSettings().table_name
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": table.PARTITION_KEY, "AttributeType": table.KEY_TYPE},
            {"AttributeName": table.SORT_KEY, "AttributeType": table.KEY_TYPE},
        ],
        KeySchema=[
            {"AttributeName": table.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": table.SORT_KEY, "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return {ENV_TABLE: name}


STEPS: tuple[Step, ...] = (verified_sender, dynamodb_table)


def create_local_resources(
    endpoint_url: str, region: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Create every resource in moto; returns the env vars the children need."""
    client = _session(endpoint_url, region)
    current = dict(os.environ if env is None else env)
    exported: dict[str, str] = {}
    for step in STEPS:
        added = step(client, current)
        current.update(added)
        exported.update(added)
    return exported
