"""The email address type used by task arguments and settings (no extra dependency).

A deliberately plain check: one ``@``, a dotted domain, no whitespace, quotes, angle
brackets or separators (so an address can never smuggle a second recipient or a header
line). Addresses are compared lower-cased for suppression.
"""

from typing import Annotated

from pydantic import StringConstraints

EMAIL_PATTERN = r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$"

EmailAddress = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]


def normalized(address: str) -> str:
    """The form suppressions are keyed by."""
    return address.strip().lower()
