"""OAuth scope names (without the issuer's prefix, which is a setting: ``taskport/``)."""

from typing import Final

TASKS_WRITE: Final = "tasks:write"
TASKS_READ: Final = "tasks:read"
WEBHOOKS_WRITE: Final = "webhooks:write"
OPS_READ: Final = "ops:read"
ADMIN: Final = "admin"

ALL: Final = (TASKS_WRITE, TASKS_READ, WEBHOOKS_WRITE, OPS_READ, ADMIN)

# The Cognito resource server identifier; scopes read "taskport/tasks:write" with it.
DEFAULT_PREFIX: Final = "taskport/"
