# taskport worker image: Celery workers for every catalog queue (the ECS command picks -Q).
# Built by `cdk deploy` as an ARM64 asset (Platform.LINUX_ARM64), or prebuilt with
#   docker buildx build --platform linux/arm64 -t <repo>:<tag> --push .
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the workers run (see .dockerignore): packaging metadata and workers/.
COPY pyproject.toml README.md ./
COPY workers ./workers
RUN pip install ".[workers]" \
    && groupadd --system --gid 10001 taskport \
    && useradd --system --uid 10001 --gid taskport --no-create-home --home-dir /tmp taskport

# The root filesystem is read-only in ECS; /tmp is a task volume.
USER 10001:10001
ENV HOME=/tmp

# ECS overrides the command per queue (infra/worker_services.py).
CMD ["celery", "-A", "workers.app", "worker", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]
