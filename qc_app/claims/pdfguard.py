"""What a PDF would do when it is opened or clicked: actions, scripts, links, attachments, forms
and media, wherever they hide.

Every object of every revision is read the way a repairing reader scanning the bytes finds it
(objects an update replaced or orphaned, objects after %%EOF, objects packed into object
streams), plus any object the cross-references place where that scan does not look. So a file
cannot show us a clean document and another reader an action. Names are compared after #xx
decoding and indirect values are resolved. Parsing shares one token budget and the walk keeps
its own stack, so no file can make the check recurse deeply or run long.

Pure: bytes in, the page count or a PdfRefused with its reason out.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any, cast

from pypdf import PdfReader, apply_configuration, get_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    StreamParsingBudget,
    read_object,
)

from qc_app.i18n import Message, msg

# Why a PDF is refused: (中文, English), most serious first; a file with several is refused
# for the first of its reasons in this order.
REASONS: dict[str, Message] = {
    "javascript": msg("含有 JavaScript 脚本"),
    "launch": msg("含有启动程序的动作"),
    "attachment": msg("含有附件或嵌入的文件"),
    "xfa": msg("含有 XFA 动态表单"),
    "submit_form": msg("含有向外提交表单的动作"),
    "import_data": msg("含有导入外部数据的动作"),
    "reset_form": msg("含有重置表单的动作"),
    "remote_file": msg("会打开或引用其他文件"),
    "uri": msg("含有网址链接或网络地址"),
    "multimedia": msg("含有音视频或富媒体"),
    "action": msg("含有打开或点击时执行的动作"),
    "encrypted": msg("已加密"),
    "too_complex": msg("结构过于复杂"),
    "malformed": msg("无法解析"),
}

# Keys whose mere presence means the reason (lower-cased: readers differ in case sensitivity).
KEY_REASONS = {
    "/js": "javascript",
    "/javascript": "javascript",  # the document's /Names /JavaScript tree
    "/embeddedfiles": "attachment",
    "/ef": "attachment",  # a file specification's embedded stream
    "/af": "attachment",  # PDF 2.0 associated files
    "/collection": "attachment",  # a portfolio
    "/xfa": "xfa",
    "/uri": "uri",
    "/ref": "remote_file",  # a reference XObject: a page drawn from another file
    "/richmediacontent": "multimedia",
    "/aa": "action",  # additional actions: page open/close, field keystroke, document close
}
# Values of /Type or /Subtype.
TYPE_REASONS = {
    "/action": "action",
    "/embeddedfile": "attachment",
    "/fileattachment": "attachment",
    "/sound": "multimedia",
    "/movie": "multimedia",
    "/screen": "multimedia",
    "/richmedia": "multimedia",
    "/rendition": "multimedia",
    "/mediaclip": "multimedia",
    "/3d": "multimedia",  # 3D annotations run their own JavaScript
}
# Action types (the /S of an action dictionary).
ACTION_REASONS = {
    "/javascript": "javascript",
    "/launch": "launch",
    "/submitform": "submit_form",
    "/importdata": "import_data",
    "/resetform": "reset_form",
    "/gotor": "remote_file",
    "/gotoe": "remote_file",
    "/uri": "uri",
    "/sound": "multimedia",
    "/movie": "multimedia",
    "/rendition": "multimedia",
    "/richmediaexecute": "multimedia",
    "/goto3dview": "multimedia",
    "/goto": "action",
    "/gotodp": "action",
    "/thread": "action",
    "/hide": "action",
    "/named": "action",
    "/setocgstate": "action",
    "/trans": "action",
}
# Keys that hold an action when their value is a dictionary (an array there is a destination,
# and a structure element's /A holds attribute objects, which carry an owner /O).
ACTION_KEYS = ("/openaction", "/a", "/pa")

MAX_OBJECTS = 20_000  # objects read, counting each revision's copy and each packed one
MAX_TOKENS = 200_000  # array elements and dictionary entries parsed, all objects together
MAX_INFLATED_BYTES = 16 * 1024 * 1024  # object and xref streams decoded, each and all together
MAX_PAGE_TREE_ENTRIES = 10_000  # pages and page-tree nodes, each visit counted
MAX_REVISIONS = 64  # copies of one object number (an incremental update adds one)
MAX_RESOLVED = 64  # values one reference stands for, over copies and references to references
# pypdf's own limits while we read (its defaults allow 75 MB per decoded stream); a page tree
# whose nodes share kids would have it copy a page once per path to it.
PYPDF_LIMITS = {
    "page_tree_maximum_entries": MAX_PAGE_TREE_ENTRIES,
    "page_tree_maximum_page_entries": MAX_PAGE_TREE_ENTRIES,
    **dict.fromkeys(
        (
            "zlib_maximum_output_length",
            "lzw_maximum_output_length",
            "run_length_maximum_output_length",
            "brotli_maximum_output_length",
        ),
        MAX_INFLATED_BYTES,
    ),
}

_WS = rb"[\x00\t\n\x0c\r ]"
# `12 0 obj` spelled backwards: searched in the reversed bytes, the engine jumps from one literal
# "jbo" to the next; forwards it would try the pattern at every digit (seconds on 10 MB of them).
_OBJECT_HEADER_REVERSED = re.compile(rb"jbo" + _WS + rb"+(\d{1,5})" + _WS + rb"+(\d{1,10})")
_XREF_ENTRY = re.compile(rb"\d{10} \d{5} [fn]")
_TRAILER = re.compile(rb"trailer" + _WS + rb"*(?=<<)")
_WHITESPACE = frozenset(b"\x00\t\n\x0c\r ")


class PdfRefused(ValueError):
    """The PDF is refused; `reason` is a key of REASONS."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS[reason].render("en"))
        self.reason = reason


class _Budget:
    """What one check may spend; pypdf counts the tokens, we count objects and inflated bytes."""

    def __init__(self) -> None:
        self.objects = 0
        self.inflated_bytes = 0
        self.tokens = StreamParsingBudget(remaining_budget=MAX_TOKENS)

    def object(self) -> None:
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise PdfRefused("too_complex")

    def decompressed(self, size: int) -> None:
        self.inflated_bytes += size
        if self.inflated_bytes > MAX_INFLATED_BYTES:
            raise PdfRefused("too_complex")


def inspect(data: bytes) -> int:
    """The number of pages of a PDF without active content; PdfRefused otherwise."""
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # a damaged file is refused or read, not logged at length
    try:
        with apply_configuration(get_configuration().with_overwrites(**PYPDF_LIMITS)):
            return _inspect(data)
    except PdfRefused:
        raise
    except Exception as exc:
        # Hostile input: whatever the parser fails on is a file we do not take.
        raise PdfRefused("too_complex" if _exhausted(exc) else "malformed") from exc
    finally:
        pypdf_log.setLevel(level)


def _exhausted(exc: BaseException | None) -> bool:
    """pypdf re-raises a RecursionError as its own read error: look down the chain."""
    for _ in range(8):
        if exc is None:
            return False
        if isinstance(exc, (RecursionError, LimitReachedError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _inspect(data: bytes) -> int:
    pdf = _File(data)
    # Everything is read under our budget before pypdf reads anything itself: its reader parses
    # trailers and cross-reference streams on opening, and every object when it repairs a file.
    pdf.read_all()
    reader = PdfReader(io.BytesIO(data), strict=False, xref_stream_maximum_entries=MAX_OBJECTS)
    if reader.is_encrypted:  # through a trailer that only pypdf's reading of the file found
        raise PdfRefused("encrypted")
    pdf.read_misplaced(reader)
    found = {reason for obj in pdf.everything() for reason in _walk(obj, pdf)}
    if found:
        raise PdfRefused(next(r for r in REASONS if r in found))
    return len(reader.pages)


class _File:
    """Every object the bytes hold, as a repairing reader finds them: each `N G obj` (every
    revision, reachable or not, after %%EOF too), each object packed in an object stream, each
    trailer. Read under one budget, and standing in for pypdf's reader while it parses (for an
    indirect /Length), so that pypdf parses nothing the budget has not paid for."""

    strict = False  # what pypdf's parser asks of the reader it is given

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.source = io.BytesIO(data)
        self.budget = _Budget()
        size = len(data)
        self.starts: dict[int, list[int]] = {}  # object number -> where its occurrences start
        self.header_at: set[int] = set()  # where each header starts
        for count, m in enumerate(_OBJECT_HEADER_REVERSED.finditer(data[::-1])):
            copies = self.starts.setdefault(int(m.group(2)[::-1]), [])
            if count == MAX_OBJECTS or len(copies) == MAX_REVISIONS:
                raise PdfRefused("too_complex")
            copies.append(size - m.start())
            self.header_at.add(size - m.end())
        # Counted before pypdf reads them: it spends time on each cross-reference entry.
        for count, _ in enumerate(_XREF_ENTRY.finditer(data)):
            if count == MAX_OBJECTS:
                raise PdfRefused("too_complex")
        self.parsed: dict[int, Any] = {}  # start -> the object read there
        self.packed: dict[int, list[Any]] = {}  # object number -> its copies in object streams
        self.others: list[Any] = []  # trailers, and objects only the cross-references place
        self.reading: set[int] = set()

    def read_all(self) -> None:
        for starts in self.starts.values():
            for start in starts:
                self._at(start)
        for m in _TRAILER.finditer(self.data):
            self.others.append(self._read(self.data, self.source, m.end()))
        # A trailer or cross-reference stream says so: strings and streams are ciphertext,
        # nothing in them could be checked, and packed objects would only read as garbage.
        if any(
            isinstance(obj, DictionaryObject) and "/Encrypt" in obj
            for obj in (*self.others, *self.parsed.values())
        ):
            raise PdfRefused("encrypted")
        for obj in list(self.parsed.values()):
            self._unpack(obj)

    def read_misplaced(self, reader: PdfReader) -> None:
        """An object a cross-reference entry places where no header was found: pypdf, and
        lenient readers, take any three letters there for `obj`."""
        for entries in reader.xref.values():
            for offset in entries.values():
                if offset not in self.header_at:
                    self.source.seek(offset)
                    reader.read_object_header(self.source)
                    obj = self._read(self.data, self.source, self.source.tell())
                    self.others.append(obj)
                    self._unpack(obj)

    def everything(self) -> Iterator[Any]:
        yield from self.parsed.values()
        for copies in self.packed.values():
            yield from copies
        yield from self.others

    def occurrences(self, number: int) -> list[Any]:
        starts = self.starts.get(number, [])
        return [self.parsed[s] for s in starts if s in self.parsed] + self.packed.get(number, [])

    def get_object(self, reference: IndirectObject) -> Any:
        """pypdf's parser asks for an indirect /Length: the object's last copy in the file."""
        starts = self.starts.get(reference.idnum)
        return self._at(starts[0]) if starts else None  # reversed scan: [0] is the last copy

    def _at(self, start: int) -> Any:
        if start in self.reading:  # a stream whose /Length is the stream itself
            return None
        if start not in self.parsed:
            self.reading.add(start)
            try:
                self.parsed[start] = self._read(self.data, self.source, start)
            finally:
                self.reading.discard(start)
        return self.parsed[start]

    def _read(self, data: bytes, source: io.BytesIO, start: int) -> Any:
        self.budget.object()
        while start < len(data) and data[start] in _WHITESPACE:
            start += 1
        source.seek(start)
        # Duck-typed: the parser reads .strict and calls .get_object, nothing else.
        return read_object(source, cast(Any, self), parsing_budget=self.budget.tokens)

    def _unpack(self, obj: Any) -> None:
        """The objects of an object stream. Some readers do not insist on /Type /ObjStm: /N and
        /First are all they use, so they are all we ask for."""
        if not isinstance(obj, StreamObject):
            return
        first, count = obj.get("/First"), obj.get("/N")
        if not (isinstance(first, NumberObject) and isinstance(count, NumberObject)):
            return
        content = obj.get_data()
        self.budget.decompressed(len(content))
        numbers = [int(n) for n in content[:first].split()[: 2 * count]]
        source = io.BytesIO(content)
        for number, offset in zip(numbers[::2], numbers[1::2], strict=False):
            self.packed.setdefault(number, []).append(self._read(content, source, first + offset))

    def resolved(self, value: Any) -> list[Any]:
        """What a value stands for: itself, or every copy of the object it refers to, followed
        through references to references (a reader picks one copy; we check them all)."""
        values, pending, seen = [], [value], set()
        while pending:
            value = pending.pop()
            if not isinstance(value, IndirectObject):
                values.append(value)
            elif value.idnum not in seen:
                seen.add(value.idnum)
                pending.extend(self.occurrences(value.idnum))
            if len(values) + len(pending) > MAX_RESOLVED:
                raise PdfRefused("too_complex")
        return values


def _walk(root: Any, pdf: _File) -> Iterator[str]:
    """Reasons found in one object's own structure. References are not followed: every object
    is a root of its own (see _File.everything), and parsing bounded the size."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, DictionaryObject):  # streams too: their dictionary
            yield from _dictionary_reasons(node, pdf)
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)


def _dictionary_reasons(node: DictionaryObject, pdf: _File) -> Iterator[str]:
    entries = {str(key).lower(): value for key, value in node.items()}

    def names(key: str) -> set[str]:
        return {str(v).lower() for v in pdf.resolved(entries.get(key)) if isinstance(v, NameObject)}

    for key in entries.keys() & KEY_REASONS.keys():
        yield KEY_REASONS[key]
    for kind in names("/type") | names("/subtype"):
        if kind in TYPE_REASONS:
            yield TYPE_REASONS[kind]
    for kind in names("/s"):
        if kind in ACTION_REASONS:
            yield ACTION_REASONS[kind]
    if "/url" in names("/fs"):  # a file specification that is fetched from the web
        yield "uri"
    for key in ACTION_KEYS:
        for value in pdf.resolved(entries.get(key)):
            if isinstance(value, DictionaryObject) and not (
                key == "/a" and "/o" in {str(k).lower() for k in value}
            ):
                yield "action"
