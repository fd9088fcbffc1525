"""The AWS resources local mode creates in moto at start, from the definitions the code uses.

Each step creates one resource from the same settings and contract modules the workers and
handlers read, and returns the environment variables that point them at it (merged into
every child's environment). Add a step for each new resource and list it in ``STEPS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from workers.contract import table
from workers.contract.notify_settings import NotificationSettings
from workers.contract.settings import (
    ENV_EMAIL_FROM,
    ENV_KMS_KEY_ID,
    ENV_SES_CONFIGURATION_SET,
    ENV_TABLE,
)

Client = Callable[[str], Any]
Step = Callable[[Client, NotificationSettings], dict[str, str]]


def _clients(endpoint_url: str, region: str) -> Client:
    import boto3

    session: Any = boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's dummy credentials
        region_name=region,
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    return client


def verified_sender(client: Client, settings: NotificationSettings) -> dict[str, str]:
    # moto, like SES in the sandbox, rejects mail from an unverified sender.
    client("sesv2").create_email_identity(EmailIdentity=settings.email_from)
    return {ENV_EMAIL_FROM: settings.email_from}


def configuration_set(client: Client, settings: NotificationSettings) -> dict[str, str]:
    client("sesv2").create_configuration_set(ConfigurationSetName=settings.configuration_set)
    return {ENV_SES_CONFIGURATION_SET: settings.configuration_set}


def dynamodb_table(client: Client, settings: NotificationSettings) -> dict[str, str]:
    client("dynamodb").create_table(TableName=settings.table_name, **table.table_definition())
    return {ENV_TABLE: settings.table_name}


def kms_key(client: Client, settings: NotificationSettings) -> dict[str, str]:
    kms = client("kms")
    key_id = kms.create_key(Description="taskport local mode")["KeyMetadata"]["KeyId"]
    if settings.kms_key_id.startswith("alias/"):
        kms.create_alias(AliasName=settings.kms_key_id, TargetKeyId=key_id)
        return {ENV_KMS_KEY_ID: settings.kms_key_id}
    return {ENV_KMS_KEY_ID: key_id}


STEPS: tuple[Step, ...] = (verified_sender, configuration_set, dynamodb_table, kms_key)


def create_local_resources(
    endpoint_url: str, region: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Create every resource in moto; returns the env vars the children need."""
    client = _clients(endpoint_url, region)
    settings = NotificationSettings.from_env(dict(os.environ if env is None else env))
    exported: dict[str, str] = {}
    for step in STEPS:
        exported.update(step(client, settings))
    return exported
