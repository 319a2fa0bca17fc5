"""Unit-test fixtures shared by the certificate tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from qc_app.certificates.fonts import FontMissing, find_cjk_font


@pytest.fixture(scope="session")
def cjk_font_path() -> Path:
    """The TrueType CJK font; tests that need it are skipped, with the fix, where it is missing."""
    try:
        return find_cjk_font()
    except FontMissing:
        pytest.skip("CJK font missing: install fonts-wqy-microhei")
