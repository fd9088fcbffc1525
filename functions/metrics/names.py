"""CloudWatch names the metrics Lambda publishes and CDK scales and alarms on (defined once).

Pure constants: the CDK app imports this module, so it must stay free of heavy imports.
"""

from typing import Final

NAMESPACE: Final = "Taskport"
QUEUE_DIMENSION: Final = "Queue"

# Messages waiting in the queue's Redis lists (every priority level).
WAITING: Final = "Waiting"
# Messages a worker has reserved but not acknowledged (kombu's ``unacked`` hash).
IN_FLIGHT: Final = "InFlight"
# waiting + in-flight: what autoscaling follows. Queue length alone reads 0 while tasks run.
BACKLOG: Final = "Backlog"
# Seconds since the oldest waiting message was enqueued (0 when nothing waits).
OLDEST_WAITING_AGE: Final = "OldestWaitingAgeSeconds"
