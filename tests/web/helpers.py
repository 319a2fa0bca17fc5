"""Driving the pages as a person would: read the CSRF token from the form, then post it."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: Any, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(client: Any, form_url: str, action: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(action, data={"csrf_token": csrf(client, form_url), **data}, **kw)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    response = post_form(client, "/login", "/login", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
