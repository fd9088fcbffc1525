"""A stand-in for the Lambda runtime's context object, with the attributes Powertools reads."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Final

LOCAL_REGION: Final = "us-east-1"
LOCAL_ACCOUNT: Final = "123456789012"


@dataclass
class LocalLambdaContext:
    function_name: str
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    @property
    def identity(self) -> None:
        return None

    @property
    def client_context(self) -> None:
        return None

    @property
    def tenant_id(self) -> None:
        return None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
