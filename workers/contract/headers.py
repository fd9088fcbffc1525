"""Celery message header names and the tenants with a special meaning."""

from typing import Final

# The submitting tenant travels as a message header, never as a kwarg (DESIGN 2a).
TENANT_HEADER: Final = "tenant"
# Tasks enqueued by EventBridge schedules run as this tenant.
SYSTEM_TENANT: Final = "system"

# Epoch seconds at enqueue, so the metrics handler can report the oldest waiting age.
ENQUEUED_AT_HEADER: Final = "enqueued_at"

# HTTP: the idempotency header (HTTP API lower-cases header names) and the JWT claims read.
IDEMPOTENCY_HEADER: Final = "idempotency-key"
TENANT_CLAIM: Final = "tenant"
