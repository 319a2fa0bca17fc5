"""The one way text reaches a person: gettext, with the Chinese text as the msgid.

Domain code says what to tell someone as a `Message` made by `msg(...)`, or by `pmsg(context,
...)` where one Chinese text has two English ones (审核通过: the button "Approve", the state
"Approved"); Babel extracts both (see babel.cfg). Who shows it renders it with a catalogue.
The web passes the request's, the API and the CLI render both languages, a bilingual document
renders each in turn. No Flask here: services and pure modules import this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from babel.support import Translations

TRANSLATIONS = Path(__file__).parent / "translations"


class Catalog(Protocol):
    """What rendering needs of a catalogue: `babel.support.Translations`, `gettext` modules."""

    def gettext(self, message: str, /) -> str: ...

    def pgettext(self, context: str, message: str, /) -> object: ...


@dataclass(frozen=True, slots=True)
class Message:
    """Text to show, not yet in any language: a msgid (Chinese, `str.format` fields) and the
    values of its fields. A value that is itself a Message is rendered in the same language, and
    a tuple of values is rendered as a list (`SEPARATOR` between the items). A context
    (gettext's msgctxt) tells apart one msgid's meanings."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()
    context: str | None = None

    def render(self, catalog: Catalog | str) -> str:
        """This text in a catalogue's language, or in a locale's ("zh", "en") by its code."""
        found = catalog_for(catalog) if isinstance(catalog, str) else catalog
        values = {name: _render(value, found) for name, value in self.params}
        if self.context is None:
            return found.gettext(self.msgid).format_map(values)
        return str(found.pgettext(self.context, self.msgid)).format_map(values)

    def as_data(self) -> dict[str, Any]:
        """JSON for a message kept to be shown again later (a replayed scan), still unrendered."""
        data = {"msgid": self.msgid, "params": {name: _data(v) for name, v in self.params}}
        return data if self.context is None else data | {"context": self.context}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Message:
        params = {name: _value(v) for name, v in data["params"].items()}
        return Message(data["msgid"], tuple(sorted(params.items())), data.get("context"))


def msg(msgid: str, /, **params: object) -> Message:
    """Mark text for translation: `msg("请填写{field}", field=...)`. The msgid must be a literal
    (Babel reads it from the source); literal braces are doubled, as in `str.format`."""
    return Message(msgid, tuple(sorted(params.items())))


def pmsg(context: str, msgid: str, /, **params: object) -> Message:
    """`msg` with a context, for a msgid that means two things: `pmsg("state", "挂起")` is
    "On hold", `pmsg("action", "挂起")` "put on hold" (Babel keyword `pmsg:1c,2`)."""
    return Message(msgid, tuple(sorted(params.items())), context)


# Between the items of a list field (problems found at once): "；" in Chinese, "; " in English.
SEPARATOR = msg("；")


def verbatim(text: str) -> Message:
    """Text that has no translation of ours (a library's own English words), shown as it is."""
    return Message("{text}", (("text", text),))


def bilingual(zh: str, en: str) -> Message:
    """Words that come as data in both languages (a material's name and a measurement's label
    in the rules, a programme's name): the catalogue's one entry "{zh}" → "{en}" picks the
    reader's, so they render like any other Message."""
    return msg("{zh}", zh=zh, en=en)


def joined(items: Iterable[Message]) -> Message:
    """Several messages as one list, in any language (nothing of its own to translate)."""
    return Message("{items}", (("items", tuple(items)),))


def _data(value: object) -> object:
    if isinstance(value, Message):
        return value.as_data()
    if isinstance(value, tuple):
        return [_data(v) for v in value]
    return value if isinstance(value, str | int) else str(value)  # a Decimal mass: its text


def _value(data: object) -> object:
    if isinstance(data, dict):
        return Message.from_data(data)
    return tuple(_value(v) for v in data) if isinstance(data, list) else data


def _render(value: object, catalog: Catalog) -> object:
    if isinstance(value, Message):
        return value.render(catalog)
    if isinstance(value, tuple):
        return SEPARATOR.render(catalog).join(str(_render(v, catalog)) for v in value)
    return value


@cache
def catalog_for(locale: str) -> Catalog:
    """The packaged catalogue of a locale; Chinese, the msgids' language, has none."""
    return Translations.load(str(TRANSLATIONS), [locale])
