"""The English catalog is complete, covers every template string, and its .mo is not stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LC_MESSAGES = ROOT / "qc_app" / "translations" / "en" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "messages.po"
MO_PATH = LC_MESSAGES / "messages.mo"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with PO_PATH.open("rb") as f:
        return read_po(f, locale="en")


def test_every_entry_is_translated_and_not_fuzzy(catalog: Catalog) -> None:
    entries = [m for m in catalog if m.id]
    assert entries, "the catalog has no messages"
    untranslated = [m.id for m in entries if not m.string or not all(m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_every_template_msgid_is_in_catalog(catalog: Catalog) -> None:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    found = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        if filename.startswith("templates"):
            found.add(message if isinstance(message, str) else message[0])
    assert found, "no messages extracted from templates"
    missing = sorted(msgid for msgid in found if msgid not in catalog)
    assert not missing, f"run pybabel extract/update: not in messages.po: {missing}"


def test_every_message_msgid_is_translated(catalog: Catalog) -> None:
    """Every `msg("中文")` and `pmsg(context, "中文")` in qc_app (Babel's python extractor,
    keywords msg and pmsg:1c,2) has English, in its context."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {
        (message, context): f"{filename}:{lineno}"
        for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords={"msg": None, "pmsg": ((1, "c"), 2)}
        )
        if filename.startswith("qc_app")
    }
    assert found, "no msg(...) extracted from qc_app"
    assert any(context for _msgid, context in found), "no pmsg(...) extracted from qc_app"
    missing = sorted(
        f"{at} {context or ''} {msgid}"
        for (msgid, context), at in found.items()
        if not _english(catalog, msgid, context)
    )
    assert not missing, f"not translated in messages.po: {missing}"


def _english(catalog: Catalog, msgid: str, context: str | None) -> str:
    found = catalog.get(msgid, context=context)
    return str(found.string) if found is not None and not found.fuzzy else ""


def test_committed_mo_matches_po(catalog: Catalog) -> None:
    """The compiled catalog says what the .po says: compared message by message (the header,
    which each Babel release writes its own way, is left out)."""
    with MO_PATH.open("rb") as f:
        compiled = read_mo(f)
    translated = {(m.id, m.context): m.string for m in compiled if m.id}
    expected = {(m.id, m.context): m.string for m in catalog if m.id and not m.fuzzy}
    assert translated == expected, (
        "messages.mo is stale: run pybabel compile -d qc_app/translations"
    )
