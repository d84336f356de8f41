"""One error tree for the whole project.

Services raise these; the API turns them into one JSON shape and the CLI into one line
and an exit code. Each subclass carries its HTTP status, its stable ``code`` and its exit code.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StewardError(Exception):
    """Root of every error modelsteward raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(StewardError):
    status, code, exit_code = 422, "invalid_input", 2


class BadRequest(StewardError):
    status, code, exit_code = 400, "bad_request", 2


class Unauthorized(StewardError):
    status, code, exit_code = 401, "unauthorized", 3


class Forbidden(StewardError):
    status, code, exit_code = 403, "forbidden", 3


class NotFound(StewardError):
    status, code, exit_code = 404, "not_found", 4


class Conflict(StewardError):
    status, code, exit_code = 409, "conflict", 5


class PayloadTooLarge(StewardError):
    status, code, exit_code = 413, "payload_too_large", 2


class IntegrityFailure(StewardError):
    """Stored bytes or records do not match their recorded hash or signature."""

    status, code, exit_code = 422, "integrity_failure", 6


class UntrustedArtifact(StewardError):
    """Loading would run code from a format that needs an explicit trust decision."""

    status, code, exit_code = 422, "untrusted_artifact", 7


class TooManyRequests(StewardError):
    """Refused for now; ``retry_after_s`` says when trying again may succeed."""

    status, code, exit_code = 429, "too_many_requests", 9

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class Unavailable(StewardError):
    status, code, exit_code = 503, "unavailable", 8


# Every class above, in the order defined: what a client maps a server's ``code`` back to.
TREE: tuple[type[StewardError], ...] = tuple(
    v for v in list(globals().values()) if isinstance(v, type) and issubclass(v, StewardError)
)
_BY_CODE = {cls.code: cls for cls in TREE}
_BY_STATUS = {cls.status: cls for cls in reversed(TREE[1:])}  # the first of a status wins


def error_class(code: str, status: int) -> type[StewardError]:
    """The class for a JSON error's ``code``; a code raised outside this module (such as
    ``model_loading``) falls back to the first class here with its HTTP status, if any."""
    return _BY_CODE.get(code) or _BY_STATUS.get(status) or StewardError
