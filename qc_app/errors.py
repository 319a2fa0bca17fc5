"""Domain errors: every refusal the domain can give, mapped to HTTP and messages in one place.

Each error carries a stable code for the API and a Message (qc_app.i18n) that whoever shows it
renders: the web in the request's language, the API and the CLI in Chinese and English.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

from qc_app.i18n import Message, msg

P = ParamSpec("P")
T = TypeVar("T")


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: Message, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message.render("en")


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


class Conflict(DomainError):
    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    """The object's current state does not allow the transition: a conflict with what it is
    now (a revoked certificate cannot be revoked again)."""

    code = "illegal_transition"


class LostRace(Conflict):
    """Another request changed or created the same record first (a version column moved on, a
    unique index refused the row): this request saved nothing. Raised by `db.write`."""


class ValidationFailed(DomainError):
    """Input refused. `fields` names what is wrong with each form field (field name → message):
    a form shows each next to its field, with what was typed kept; the API sends them as
    `error.fields`. The message says it as a whole."""

    status = 422
    code = "validation_failed"

    def __init__(
        self,
        message: Message,
        *,
        code: str | None = None,
        fields: Mapping[str, Message] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.fields: dict[str, Message] = dict(fields or {})


class FieldErrors:
    """Collects every field's problem before refusing, so a form names them all at once:
    `errors.add("mass_g", msg(...))` while checking, then `errors.check()`."""

    def __init__(self) -> None:
        self.fields: dict[str, Message] = {}

    def add(self, field: str, message: Message) -> None:
        self.fields.setdefault(field, message)

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def take(
        self, field: str, check: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        """`check(*args, **kwargs)`'s value, or None with its refusal noted against `field`
        (the parsers in units.py refuse one value at a time; a form wants them all)."""
        try:
            return check(*args, **kwargs)
        except ValidationFailed as exc:
            self.add(field, exc.message)
            return None

    def check(self) -> None:
        """Raise ValidationFailed naming every field collected; nothing when none was."""
        if len(self.fields) == 1:
            (only,) = self.fields.values()
            raise ValidationFailed(only, fields=self.fields)
        if self.fields:
            raise ValidationFailed(
                msg("有 {n} 处需要更正，见各栏下方的说明。", n=len(self.fields)), fields=self.fields
            )


class Unavailable(DomainError):
    """A service this request needs (the file store) does not answer; nothing was changed."""

    status = 503
    code = "unavailable"


class TooManyAttempts(DomainError):
    """A rate limit or budget is spent: the message says how long to wait, in plain words,
    and web.py sends the same wait as the Retry-After header."""

    status = 429
    code = "rate_limited"

    def __init__(self, what: Message, *, wait_s: float) -> None:
        self.retry_after = max(1, math.ceil(wait_s))
        super().__init__(
            msg("{what}请在{wait}后再试。", what=what, wait=wait_words(self.retry_after))
        )


def wait_words(seconds: int) -> Message:
    """A wait as a person says it: seconds under two minutes, else minutes (rounded up)."""
    if seconds == 1:
        return msg(" 1 秒")
    if seconds < 120:
        return msg(" {seconds} 秒", seconds=seconds)
    return msg(" {minutes} 分钟", minutes=math.ceil(seconds / 60))
