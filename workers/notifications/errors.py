"""Errors of the notification tasks (the catalog names retried ones by dotted path)."""


class TransientEmailError(RuntimeError):
    """SES throttled us or failed transiently: retried with backoff + jitter (<= 10 min)."""


class EmailQuotaExceeded(RuntimeError):
    """The daily sending quota is used up: retried after the quota window (retry schedule)."""


class EmailRejected(RuntimeError):
    """SES refused this message for good (bad request, unverified sender...): not retried."""


class SendingDisabled(RuntimeError):
    """Sending is paused or the account suspended: not retried, ops are alerted."""


class WebhookEndpointMissing(RuntimeError):
    """No such endpoint for this tenant (deleted, or another tenant's)."""


class WebhookEndpointDisabled(RuntimeError):
    """The endpoint is disabled (it answered 410 Gone earlier)."""


class WebhookEndpointGone(RuntimeError):
    """The endpoint answered 410 Gone: it is disabled now."""


class WebhookDeliveryFailed(RuntimeError):
    """A 4xx other than 408/410/429, a blocked address, or retries exhausted (max age)."""
