"""The task record (``taskport:task:<id>`` hash) both sides read and write.

The API writes it at submit; worker signals update it; GET /v1/tasks/{id} reads it with
Celery's result in one round trip.
"""

from typing import Final

# Celery states plus PROGRESS (a custom state carrying {percent, message}).
PENDING: Final = "PENDING"
STARTED: Final = "STARTED"
PROGRESS: Final = "PROGRESS"
RETRY: Final = "RETRY"
SUCCESS: Final = "SUCCESS"
FAILURE: Final = "FAILURE"
REVOKED: Final = "REVOKED"

STATES: Final = (PENDING, STARTED, PROGRESS, RETRY, SUCCESS, FAILURE, REVOKED)
FINAL_STATES: Final = frozenset({SUCCESS, FAILURE, REVOKED})

# Hash fields. Times are epoch seconds as decimal strings.
F_TENANT: Final = "tenant"
F_TASK: Final = "task"
F_QUEUE: Final = "queue"
F_STATE: Final = "state"
F_SUBMITTED: Final = "submitted"
F_STARTED: Final = "started"
F_FINISHED: Final = "finished"
F_ATTEMPTS: Final = "attempts"  # runs started
F_LOST_RUNS: Final = "lost_runs"  # runs whose pool process died unexpectedly
F_PROGRESS_PERCENT: Final = "progress_percent"
F_PROGRESS_MESSAGE: Final = "progress_message"
F_ERROR_TYPE: Final = "error_type"
F_ERROR_MESSAGE: Final = "error_message"

# Error messages are bounded and never carry a traceback.
MAX_ERROR_MESSAGE: Final = 1_000
MAX_PROGRESS_MESSAGE: Final = 200

# A run whose pool process died unexpectedly (killed, out of memory) is put back at once
# (reject_on_worker_lost). After this many such runs the task fails instead of taking
# down a worker again and again.
MAX_LOST_RUNS: Final = 3
