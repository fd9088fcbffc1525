"""moto's server as a child process on a free loopback port: the AWS APIs of local mode."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from infra.local.redis_server import free_port


@dataclass
class MotoServer:
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self, **popen_kwargs: object) -> subprocess.Popen[bytes]:
        """Start the child (own session, so Ctrl-C reaches only the supervisor)."""
        if not self.port:
            self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            start_new_session=True,
            **popen_kwargs,  # type: ignore[call-overload]
        )
        return self.process

    def ping(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=0.5) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.process.returncode}")
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError(f"moto server did not answer on port {self.port} in {timeout:g}s")
