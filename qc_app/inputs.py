"""What a request may carry, checked once before any view reads it.

Text (path, query, form, cookies, JSON strings and keys) never holds a NUL or a lone surrogate:
PostgreSQL refuses the one and every UTF-8 encoder the other, as a 500 deep in a service.
JSON bodies nest at most MAX_JSON_DEPTH deep (deeper blew the parser's recursion), and their
numbers stay exact: decimals as Decimal, long integers as Decimal too, so that
units.to_decimal sees every number as typed and refuses 1e400 instead of meeting float inf.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from flask import Flask, Request, request

from qc_app.errors import BadRequest
from qc_app.units import MAX_NUMBER_CHARS

MAX_JSON_DEPTH = 32  # the deepest body the API documents is 3 (consignment → items → item)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text() -> BadRequest:
    return BadRequest(
        "请求含有无法保存的字符（NUL 或孤立的代理字符）",
        "the request holds characters that cannot be stored (NUL or a lone surrogate)",
    )


def _check_text(*texts: object) -> None:
    if any(isinstance(t, str) and _UNSTORABLE.search(t) for t in texts):
        raise _unstorable_text()


def _json_int(text: str) -> int | Decimal:
    # int() of a 4,300-digit literal raises and a longer one takes time; to_decimal refuses it.
    return int(text) if len(text) <= MAX_NUMBER_CHARS else Decimal(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json would accept NaN and Infinity


class BodyJSON:
    """The json module request bodies are read with (Request.get_json)."""

    @staticmethod
    def loads(data: str | bytes) -> Any:
        try:
            value = json.loads(
                data, parse_float=Decimal, parse_int=_json_int, parse_constant=_no_constant
            )
        except RecursionError:
            raise _too_deep() from None
        _check_json(value)
        return value


def _too_deep() -> BadRequest:
    return BadRequest(
        f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）",
        f"the JSON body nests too deeply (at most {MAX_JSON_DEPTH} levels)",
    )


def _check_json(value: Any) -> None:
    """Depth and text of a parsed body, iteratively (a recursive walk could overflow too)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list) and depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            _check_text(*node)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        else:
            _check_text(node)


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
