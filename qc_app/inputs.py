"""What a request may carry, checked once before any view reads it.

Text (path, query, form, cookies, JSON strings and keys) never holds a NUL or a lone surrogate:
PostgreSQL refuses the one and every UTF-8 encoder the other, as a 500 deep in a service.
JSON bodies hold at most MAX_JSON_BYTES and nest at most MAX_JSON_DEPTH deep (deeper blew the
parser's recursion), and every JSON number is read as a Decimal, exactly as typed: 1e400 stays
a number that units.to_decimal refuses instead of becoming float inf, and a 5,000-digit integer
a number that is too long instead of a ValueError from int().
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from flask import Flask, Request, request
from werkzeug.exceptions import RequestEntityTooLarge

from qc_app.errors import BadRequest
from qc_app.i18n import msg

MAX_JSON_DEPTH = 32  # the deepest body the API documents is 3 (consignment → items → item)
# 500 declared items take about 100 KB. The cap bounds the parse and the walk below: a body of
# half a million numbers, the worst case at 1 MB, takes well under half a second.
MAX_JSON_BYTES = 1024 * 1024
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Raw NUL is invalid in a JSON string and a raw surrogate in UTF-8: only these escapes spell them.
_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _unstorable_text() -> BadRequest:
    return BadRequest(
        msg("请求含有无法保存的字符（NUL 或孤立的代理字符）"),
    )


def _check_text(*texts: object) -> None:
    if any(isinstance(t, str) and _UNSTORABLE.search(t) for t in texts):
        raise _unstorable_text()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json would accept NaN and Infinity


class BodyJSON:
    """The json module request bodies are read with (Request.get_json)."""

    @staticmethod
    def loads(data: str | bytes) -> Any:
        if len(data) > MAX_JSON_BYTES:
            raise RequestEntityTooLarge(f"a JSON body holds at most {MAX_JSON_BYTES} bytes")
        text = data.decode(json.detect_encoding(data)) if isinstance(data, bytes) else data
        try:
            value = json.loads(
                text, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant
            )
        except RecursionError:
            raise _too_deep() from None
        _check_json(value, strings=_ESCAPE.search(text) is not None)
        return value


def _too_deep() -> BadRequest:
    return BadRequest(
        msg("JSON 嵌套过深（最多 {max_json_depth} 层）", max_json_depth=MAX_JSON_DEPTH),
    )


def _check_json(value: Any, *, strings: bool) -> None:
    """The depth of a parsed body, iteratively (a recursive walk could overflow too), and its
    keys and strings when the text has an escape that could have spelt NUL or a surrogate."""
    if strings:
        _check_text(value)
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        children = list(node.values()) if isinstance(node, dict) else node
        if strings:
            _check_text(*(node if isinstance(node, dict) else ()), *children)
        nested = [child for child in children if isinstance(child, (dict, list))]
        stack.extend((child, depth + 1) for child in nested)


class QcRequest(Request):
    """Bodies are read with BodyJSON. Flask assigns the app's JSON provider to every request;
    that provider stays as it is for the session cookie and for jsonify."""

    @property
    def json_module(self) -> Any:
        return BodyJSON

    @json_module.setter
    def json_module(self, _provider: Any) -> None:
        pass


def init_app(app: Flask) -> None:
    app.request_class = QcRequest

    @app.before_request
    def _refuse_unstorable_text() -> None:
        if request.mimetype == "application/x-www-form-urlencoded":
            # Parsing the form consumes the body; keep a copy for a view that reads it raw (a
            # CSV posted with curl's default type). Werkzeug reads such a body whole anyway.
            request.get_data(cache=True)
        _check_text(
            request.path,  # <code> and <number> route arguments
            *(t for pair in request.args.items(multi=True) for t in pair),
            *(t for pair in request.form.items(multi=True) for t in pair),
            *(t for pair in request.cookies.items(multi=True) for t in pair),
        )
