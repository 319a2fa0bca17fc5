"""The one way text reaches a person: gettext, with the Chinese text as the msgid.

Domain code says what to tell someone as a `Message` made by `msg(...)` (which Babel extracts,
see babel.cfg); who shows it renders it with a catalogue. The web passes the request's, the API
and the CLI render both languages, a bilingual document renders each in turn. No Flask here:
services and pure modules import this.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from babel.support import Translations

TRANSLATIONS = Path(__file__).parent / "translations"


class Catalog(Protocol):
    """What rendering needs of a catalogue: `babel.support.Translations`, `gettext` modules."""

    def gettext(self, message: str, /) -> str: ...


@dataclass(frozen=True, slots=True)
class Message:
    """Text to show, not yet in any language: a msgid (Chinese, `str.format` fields) and the
    values of its fields. A value that is itself a Message is rendered in the same language."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()

    def render(self, catalog: Catalog | str) -> str:
        """This text in a catalogue's language, or in a locale's ("zh", "en") by its code."""
        found = catalog_for(catalog) if isinstance(catalog, str) else catalog
        values = {
            name: value.render(found) if isinstance(value, Message) else value
            for name, value in self.params
        }
        return found.gettext(self.msgid).format_map(values)


def msg(msgid: str, /, **params: object) -> Message:
    """Mark text for translation: `msg("请填写{field}", field=...)`. The msgid must be a literal
    (Babel reads it from the source); literal braces are doubled, as in `str.format`."""
    return Message(msgid, tuple(sorted(params.items())))


@cache
def catalog_for(locale: str) -> Catalog:
    """The packaged catalogue of a locale; Chinese, the msgids' language, has none."""
    return Translations.load(str(TRANSLATIONS), [locale])
