"""The metrics Lambda: per-queue backlog (waiting + in-flight) as CloudWatch metrics (EMF)."""
