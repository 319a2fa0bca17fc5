"""Domain errors: every refusal the domain can give, mapped to HTTP and messages in one place.

Each error carries a stable code for the API, a Chinese message for the UI and an English one.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message_zh: str, message_en: str, *, code: str | None = None) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        if code:
            self.code = code

    def message(self, locale: str) -> str:
        return self.message_en if locale.startswith("en") else self.message_zh


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class LostRace(Conflict):
    """Another request changed or created the same record first (a version column moved on, a
    unique index refused the row): this request saved nothing. Raised by `db.write`."""


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


def not_found(what_zh: str, what_en: str) -> NotFound:
    return NotFound(f"未找到{what_zh}", f"{what_en} not found")
