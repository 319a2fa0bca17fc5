"""Messages (qc_app.i18n): one msgid, rendered in whichever language the reader needs."""

from __future__ import annotations

import ast
from pathlib import Path

from qc_app.i18n import Message, catalog_for, msg

ROOT = Path(__file__).resolve().parents[2]


class Catalog:
    """A catalogue as gettext-like objects are: msgid in, translation (or msgid) out."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = entries

    def gettext(self, message: str, /) -> str:
        return self.entries.get(message, message)


def test_chinese_is_the_msgid_with_its_fields_filled() -> None:
    assert msg("请填写{field}", field="mass_g").render("zh") == "请填写mass_g"


def test_english_comes_from_the_packaged_catalogue() -> None:
    assert msg("未找到证书").render("en") == "Certificate not found"


def test_rendering_takes_the_callers_catalogue() -> None:
    english = Catalog({"一批最多 {limit} 件": "at most {limit} items per batch"})
    assert msg("一批最多 {limit} 件", limit=200).render(english) == "at most 200 items per batch"


def test_a_field_that_is_a_message_is_rendered_in_the_same_language() -> None:
    english = Catalog(
        {"{what}请重试": "{what} Please retry.", "请求过于频繁。": "Too many requests."}
    )
    message = msg("{what}请重试", what=msg("请求过于频繁。"))
    assert message.render(english) == "Too many requests. Please retry."
    assert message.render("zh") == "请求过于频繁。请重试"


def test_doubled_braces_are_literal_and_field_values_are_not_formats() -> None:
    assert msg("{{x}} = {value}", value="{y}").render("zh") == "{x} = {y}"


def test_messages_are_values() -> None:
    assert msg("请填写{field}", field="a") == msg("请填写{field}", field="a")
    assert isinstance(hash(msg("未找到证书")), int)
    assert msg("已保存") == Message("已保存")


def test_a_locale_without_a_catalogue_shows_the_msgid() -> None:
    assert catalog_for("zh").gettext("未找到证书") == "未找到证书"


def test_i18n_imports_no_web_framework() -> None:
    tree = ast.parse((ROOT / "qc_app" / "i18n.py").read_text())
    modules = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
    }
    assert not {m for m in modules if m.split(".")[0] in ("flask", "flask_babel", "sqlmodel")}
