"""Build the Lambda code asset without Docker.

The functions' dependencies are installed once for the Lambda platform (Python 3.12 on
ARM64, wheels only) into ``build/lambda-deps`` and reused while the ``functions`` extra in
pyproject.toml is unchanged (a stamp holds the hash of the requirements and pip flags).
The asset directory then gets those dependencies plus ``functions/`` and only the light
part of ``workers/`` (DESIGN 2a): never task code, which needs celery and is not shipped.

``python -m infra.bundle`` builds it; the CDK app calls ``build_lambda_asset()`` itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
BUILD_DIR: Final = ROOT / "build"
DEPS_DIR: Final = BUILD_DIR / "lambda-deps"
ASSET_DIR: Final = BUILD_DIR / "lambda-asset"
_STAMP: Final = ".taskport-stamp"

LAMBDA_PYTHON_VERSION: Final = "3.12"
# manylinux_2_28 for packages that publish only newer wheels; the Lambda runtime accepts both.
LAMBDA_PLATFORMS: Final = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
FUNCTIONS_EXTRA: Final = "functions"

# What the Lambdas may import from the repository: relative paths, files or packages.
SOURCE_PATHS: Final = (
    "functions",
    "workers/__init__.py",
    "workers/catalog.py",
    "workers/contract",
)
_IGNORE: Final = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")


def functions_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The ``functions`` extra of pyproject.toml: the single list of Lambda dependencies."""
    data = tomllib.loads(pyproject.read_text())
    return list(data["project"]["optional-dependencies"][FUNCTIONS_EXTRA])


def pip_command(requirements: list[str], target: Path) -> list[str]:
    platforms = [arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # the host's .pyc files would be for the wrong Python version
        "--upgrade",
        "--target",
        str(target),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        *requirements,
    ]


def install_dependencies(deps_dir: Path = DEPS_DIR) -> Path:
    """Install the functions extra for the Lambda platform unless the cached copy matches."""
    requirements = functions_requirements()
    command = pip_command(requirements, deps_dir)
    fingerprint = hashlib.sha256(json.dumps(command[3:]).encode()).hexdigest()
    stamp = deps_dir / _STAMP
    if stamp.exists() and stamp.read_text() == fingerprint:
        return deps_dir
    if deps_dir.exists():
        shutil.rmtree(deps_dir)
    deps_dir.mkdir(parents=True)
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell
    stamp.write_text(fingerprint)
    return deps_dir


def copy_sources(asset_dir: Path, *, root: Path = ROOT) -> None:
    for relative in SOURCE_PATHS:
        source, target = root / relative, asset_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=_IGNORE)
        else:
            shutil.copy2(source, target)


def build_lambda_asset(asset_dir: Path = ASSET_DIR, *, include_dependencies: bool = True) -> Path:
    """A fresh asset directory: dependencies (unless told not to) + the allowed sources."""
    if asset_dir.exists():
        shutil.rmtree(asset_dir)
    asset_dir.mkdir(parents=True)
    if include_dependencies:
        deps = install_dependencies()
        shutil.copytree(deps, asset_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(_STAMP))
    copy_sources(asset_dir)
    return asset_dir


def main() -> None:
    print(build_lambda_asset())


if __name__ == "__main__":
    main()
