"""How fast hostile input is refused: prints figures, asserts nothing.

    .venv/bin/python bench/hostile_inputs.py [REPEATS]

The test suite checks that each input is refused and why; how long the refusal takes depends on
the machine's load, so it is measured here: huge numbers (forms, API, CSV go through one parser),
the PDF checker's hostile corpus (tests/evidence_pdfs.py) and a pixel bomb. Targets: numbers in
well under a millisecond, each hostile PDF within a second or two, a pixel bomb in milliseconds.
"""

from __future__ import annotations

import struct
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qc_app.claims import evidence
from qc_app.errors import ValidationFailed
from qc_app.units import parse_mass_g, parse_price_fen, yuan_to_fen
from qc_app.uploads import MAX_PIXELS, clean_image
from tests.evidence_pdfs import HOSTILE

NUMBERS = ["1e300000", "1e-300000", "9" * 5000, "0E+999999999x", "-1e300000", "1e400"]


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 17))
        + chunk(b"IEND", b"")
    )


def worst_refusal_s(refuse: Callable[[], object], repeats: int) -> float:
    worst = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            refuse()
        except ValidationFailed:
            pass
        else:
            raise SystemExit("accepted hostile input: the test suite should have caught this")
        worst = max(worst, time.perf_counter() - started)
    return worst


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"worst of {repeats} runs each")
    for text in NUMBERS:
        for name, parse in (("fen", parse_price_fen), ("mass", parse_mass_g)):
            seconds = worst_refusal_s(lambda p=parse, t=text: p(t), repeats)
            print(f"  number {name:<4} {text[:16]:<16} {seconds * 1e6:9.1f} µs")
        seconds = worst_refusal_s(lambda t=text: parse_price_fen(yuan_to_fen(t)), repeats)
        print(f"  yuan→fen  {text[:16]:<16} {seconds * 1e6:9.1f} µs")
    for case, (make, _reason) in HOSTILE.items():
        data = make()
        seconds = worst_refusal_s(lambda d=data: evidence.check_file(d), repeats)
        print(f"  pdf {case:<36} {seconds:7.3f} s  ({len(data):,} bytes)")
    for size in ((1, MAX_PIXELS + 1), (50_000, 50_000)):
        data = png_header(*size)
        seconds = worst_refusal_s(lambda d=data: clean_image(d), repeats)
        print(f"  pixel bomb {size[0]}x{size[1]:<12} {seconds * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
