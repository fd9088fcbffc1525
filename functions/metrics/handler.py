"""Every minute: per catalog queue, waiting + in-flight backlog as CloudWatch metrics (EMF).

Publishes an explicit value for every queue, also 0, so the scaling alarms always have
data, including while a queue's service runs zero workers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.metrics import names
from functions.metrics.backlog import QueueBacklog, as_payload, measure
from functions.shared.redis_client import producer_client
from workers.catalog import QUEUES

logger = Logger()
# Building these objects makes no network call (cold start stays cheap).
metrics = Metrics(namespace=names.NAMESPACE)


def publish(target: Metrics, backlogs: Mapping[str, QueueBacklog]) -> None:
    """One EMF document per queue (one dimension set each), flushed to stdout."""
    for queue, backlog in backlogs.items():
        target.add_dimension(name=names.QUEUE_DIMENSION, value=queue)
        target.add_metric(name=names.WAITING, unit=MetricUnit.Count, value=backlog.waiting)
        target.add_metric(name=names.IN_FLIGHT, unit=MetricUnit.Count, value=backlog.in_flight)
        target.add_metric(name=names.BACKLOG, unit=MetricUnit.Count, value=backlog.backlog)
        target.add_metric(
            name=names.OLDEST_WAITING_AGE, unit=MetricUnit.Seconds, value=backlog.oldest_waiting_age
        )
        target.flush_metrics(raise_on_empty_metrics=True)


@logger.inject_lambda_context
def handler(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    backlogs = measure(producer_client(), QUEUES, now=time.time())
    publish(metrics, backlogs)
    payload = as_payload(backlogs)
    logger.info("queue backlog", extra={"queues": payload})
    return {"queues": payload}
