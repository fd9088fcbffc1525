"""Errors raised by the diagnostics tasks (named by dotted path in the catalog)."""


class DiagnosticError(RuntimeError):
    """A deliberate, non-retryable failure."""


class RetryableDiagnosticError(RuntimeError):
    """A deliberate failure that the catalog's retry policy retries."""
