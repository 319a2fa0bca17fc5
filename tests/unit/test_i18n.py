"""Messages (qc_app.i18n): one msgid, rendered in whichever language the reader needs."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from qc_app.i18n import Message, catalog_for, msg, pmsg

ROOT = Path(__file__).resolve().parents[2]


class Catalog:
    """A catalogue as gettext-like objects are: msgid in, translation (or msgid) out."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = entries

    def gettext(self, message: str, /) -> str:
        return self.entries.get(message, message)

    def pgettext(self, context: str, message: str, /) -> str:
        return self.entries.get(f"{context}\x04{message}", message)


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


def test_a_context_tells_one_msgids_meanings_apart() -> None:
    english = Catalog({"state\x04挂起": "On hold", "action\x04挂起": "put on hold"})
    assert pmsg("state", "挂起").render(english) == "On hold"
    assert pmsg("action", "挂起").render(english) == "put on hold"
    assert pmsg("state", "挂起").render("zh") == "挂起"
    assert pmsg("state", "挂起") != msg("挂起")


def test_a_kept_message_keeps_its_context() -> None:
    kept = msg("{code} 当前为“{state}”", code="A1", state=pmsg("state in a sentence", "挂起"))
    assert Message.from_data(kept.as_data()) == kept


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


CJK = re.compile(r"[\u4e00-\u9fff]")
# Calls that may still pass a (中文, English) pair: documentation, not text shown to people.
# (Data in both languages — rules, layouts, material and programme names — is read from files
# and records, never written as a literal pair, so it needs no exemption.)
EXEMPT = {
    "_op": "OpenAPI summaries: documentation, not UI text",
}


def _text(node: ast.expr) -> str | None:
    """The literal words of a string expression (f-string parts, `+` of strings), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def _is_pair(zh: ast.expr, en: ast.expr) -> bool:
    zh_text, en_text = _text(zh), _text(en)
    return bool(zh_text and CJK.search(zh_text)) and en_text is not None and not CJK.search(en_text)


def _asks_locale(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and any(
        isinstance(n, ast.Call) and ast.unparse(n.func) == "locale" for n in ast.walk(test)
    )


def _second_mechanisms(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and ast.unparse(node.func) not in EXEMPT:
            arguments = node.args
            if any(_is_pair(a, b) for a, b in itertools.pairwise(arguments)):
                found.append(f"{where} a (中文, English) argument pair: use msg()")
        if isinstance(node, ast.IfExp) and _asks_locale(node.test):
            found.append(f"{where} text chosen by locale(): use msg() / translate()")
        if isinstance(node, ast.Attribute) and node.attr in ("message_zh", "message_en"):
            found.append(f"{where} .{node.attr}: render the Message")
    return found


def test_no_text_is_translated_any_other_way() -> None:
    """Issue 17: one i18n mechanism. No call passes a Chinese and an English text side by
    side, no view picks a text by comparing the locale, no one reads message_zh/_en."""
    sources = [p for p in sorted((ROOT / "qc_app").rglob("*.py")) if "migrations" not in p.parts]
    found = [line for path in sources for line in _second_mechanisms(path)]
    templates = sorted((ROOT / "templates").rglob("*.html"))
    found += [
        f"{path.relative_to(ROOT)}: message_zh/_en chosen by lang: use |tr"
        for path in templates
        if re.search(r"message_(zh|en)", path.read_text())
    ]
    assert not found, "\n".join(found)
