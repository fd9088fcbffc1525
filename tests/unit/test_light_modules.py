"""The Lambdas bundle only light modules: prove it in fresh subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.fresh_python import run_python

BLOCK_HEAVY = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"celery", "kombu", "boto3", "botocore", "httpx"}:
            raise ImportError("blocked in this test: " + name)
        return None
sys.meta_path.insert(0, Block())
"""


run = run_python


LIGHT = [
    "workers.catalog",
    "workers.contract.settings",
    "workers.contract.keys",
    "workers.contract.records",
    "workers.contract.headers",
    "workers.contract.message",
    "workers.contract.scripts",
    "workers.contract.scopes",
    "workers.contract.table",
    "workers.contract.lazy_model",
    "functions.api.routes",
]


@pytest.mark.parametrize("module", LIGHT)
def test_contract_module_imports_without_celery_boto3_or_httpx(module: str) -> None:
    out = run(BLOCK_HEAVY + f"import {module}; print('ok')")
    assert out.strip() == "ok"


HANDLERS = ["functions.api.handler", "functions.scheduler.handler"]
# Powertools imports the bare ``botocore`` package (1 ms) to tag its user agent; a client
# or session would be the expensive part.
HEAVY = [
    "celery",
    "kombu",
    "boto3",
    "botocore.session",
    "botocore.client",
    "httpx",
    "workers.app",
    "workers.tasking",
    "workers.diagnostics",
]


@pytest.mark.parametrize("handler", HANDLERS)
def test_importing_a_handler_leaves_heavy_modules_out(handler: str) -> None:
    code = (
        f"import sys, json; import {handler}; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    assert json.loads(run(code)) == []


def test_api_handler_import_opens_no_connection_and_reads_no_settings() -> None:
    # A bad setting must not crash Lambda init: it is read on the first request.
    code = (
        "import os; os.environ['REDIS_URL'] = 'ftp://nonsense';"
        "import functions.api.handler as h, functions.shared.redis_client as rc;"
        "from workers.contract.settings import core_settings;"
        "print(core_settings.cache_info().currsize, rc.producer_client.cache_info().currsize)"
    )
    assert run(code).split() == ["0", "0"]


def test_submitting_through_the_handler_still_imports_no_task_code(tmp_path: Path) -> None:
    # Full path (validation + enqueue) against a closed port: still no celery/boto3/httpx.
    code = (
        "import os, sys, json;"
        "os.environ['REDIS_URL'] = 'redis://127.0.0.1:1/0';"
        "sys.path.insert(0, '.');"
        "from tests.functional.conftest import ApiClient;"
        "r = ApiClient().submit('diagnostics.echo', {'message': 'x'});"
        f"print(r.status, json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    status, modules = run(code).strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(modules) == []
