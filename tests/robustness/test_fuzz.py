"""Property tests over the loaders, the normaliser, the quantity parser, the segmenter and the report
writers (the properties are in fuzzing.py). This is the short profile CI runs; the long one is
`python bench/fuzz_profile.py --examples 20000`. Inputs that once failed are pinned as examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from . import fuzzing as F

CI = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
              print_blob=True)
SUFFIXES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".xyz"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Where the file cases are written: one folder for every example, removed with pytest's own."""
    return tmp_path_factory.mktemp("fuzz")


@settings(CI, max_examples=300)
@given(F.document_bytes())
@example(b"\xff\xfe\xff\xfe")  # a doubled BOM: the second one is text (U+FEFF), as tests/documents says
@example(b"\xef\xbb\xbf \xe3\x80\x80\r\n")  # BOM and spaces: no text
@example(b"\xff\xfe" + "本报讯".encode("utf-16-le")[:-1])  # UTF-16 cut inside a character
def test_load_text_decodes_exactly_or_refuses(data: bytes) -> None:
    F.check_load_text(data)


@settings(CI, max_examples=150)
@given(F.document_bytes(), st.sampled_from(SUFFIXES))
def test_any_bytes_under_any_suffix_load_or_give_one_error_line(folder: Path, data: bytes, suffix: str) -> None:
    F.check_load_file(folder, data, suffix)


@settings(CI, max_examples=25)
@given(st.lists(F.texts, max_size=4), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=3))
def test_docx_real_or_damaged_loads_or_gives_one_error_line(folder: Path, paragraphs: list[str], flips) -> None:
    data = F.docx_bytes(paragraphs)
    F.check_load_file(folder, F.mangle_zip(data, flips) if flips else data, ".docx")


@settings(CI, max_examples=300)
@given(F.texts)
@example("")
@example("\r\n\r\n\u3000\u200b")
@example("１２３，４５６元\n\n\n  ８４ 名")
def test_normalised_text_maps_back_character_by_character(text: str) -> None:
    F.check_normalise(text)


@settings(CI, max_examples=300)
@given(F.texts)
@example("发放资金1e99元，又9^99元、0.1^-99元、1.5e-400万元")  # once read as 9元, 9元, 1^-99元, 400万元
@example("计" + "9" * 400 + "元")
def test_quantities_map_back_and_are_finite(text: str) -> None:
    F.check_quantities(text)


@settings(CI, max_examples=200)
@given(F.texts)
def test_segments_map_back_and_nest(text: str) -> None:
    F.check_segment(text)


@settings(CI, max_examples=60)
@given(st.dictionaries(st.sampled_from(["a.txt", "dir/<b>.txt", "c d.md", "报告.txt"]), F.texts, min_size=1, max_size=3))
@example({"a.txt": "本报讯本报讯本报讯\x0b本报讯"})  # a vertical tab in a GitHub annotation
@example({"a.txt": "本报讯 2021年，长春市总工会发放慰问金X元\x07\x1b。\n", "b.txt": "<script>alert(1)</script>"})
def test_audit_findings_map_back_and_every_report_is_well_formed(pages: dict[str, str]) -> None:
    F.check_audit_and_reports(pages)
