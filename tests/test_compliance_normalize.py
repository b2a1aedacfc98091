"""Normalisation: the light view keeps offsets, the dense view strips what people insert inside
terms, and every dense index maps back to the character it came from."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from copilot.compliance.normalize import bare_form, dense_form, fold, normalize, pinyin_variants


def test_fold_keeps_length_and_converts_width_script_and_case() -> None:
    text = "這款理財ＢＡＯ本，年化２．８％ ABC"
    light = fold(text)
    assert len(light) == len(text)
    assert light == "这款理财bao本,年化2.8% abc"


def test_dense_strips_inserted_spaces_and_symbols_but_keeps_sentence_punctuation() -> None:
    doc = normalize("保 本，保-本。保*本！保·本\n保　本")
    assert doc.dense == "保本,保本。保本!保本\n保本"


def test_decimal_points_survive_but_inserted_dots_do_not() -> None:
    assert dense_form("年化2.8%") == "年化2.8%"
    assert dense_form("保.本") == "保本"


def test_emoji_inside_a_term_is_removed() -> None:
    assert dense_form("稳🔥赚") == "稳赚"


def test_span_maps_dense_hits_back_to_the_original_characters() -> None:
    text = "这款理财保 - 本保息"
    doc = normalize(text)
    start = doc.dense.index("保本")
    s, e = doc.span(start, start + 2)
    assert text[s:e] == "保 - 本"
    assert doc.dense_span(s, e) == (start, start + 2)


def test_sentence_of_stops_at_sentence_ends() -> None:
    doc = normalize("大额存单保本保息。这款理财收益不错！")
    i = doc.dense.index("保本")
    assert doc.sentence_of(i, i + 2) == "大额存单保本保息"
    j = doc.dense.index("收益")
    assert doc.sentence_of(j, j + 2) == "这款理财收益不错"


def test_in_quotes_finds_spans_inside_one_pair_of_quotation_marks() -> None:
    text = "当心：“买保健品送鸡蛋”，还有「保本高息」和＂稳赚＂\n“跨行不算"
    doc = normalize(text)
    for inside in ("买保健品送", "保本高息", "稳赚"):
        start = text.index(inside)
        assert doc.in_quotes(start, start + len(inside)), inside
    start = text.index("还有")
    assert not doc.in_quotes(start, start + 2)
    start = text.index("跨行")
    assert not doc.in_quotes(start, start + 2)  # an unclosed quote quotes nothing


def test_bare_form_ignores_punctuation_variants() -> None:
    variant = bare_form("理财非存款，产品有风险，投资须谨慎！")
    assert variant == bare_form("理财非存款、产品有风险、投资须谨慎。") == "理财非存款产品有风险投资须谨慎"


def test_pinyin_variants_cover_every_mix() -> None:
    assert pinyin_variants("保本") == {"保本", "bao本", "保ben", "baoben"}
    assert "wu风险" in pinyin_variants("无风险")


def test_pinyin_variants_leave_non_chinese_alone() -> None:
    assert pinyin_variants("0风险") >= {"0风险", "0fengxian"}
    assert pinyin_variants("top1") == {"top1"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("保本理財ＡＢab 　-*·。，!?\n0123456789.🔥")), max_size=60))
def test_every_dense_character_comes_from_its_original_character(text: str) -> None:
    doc = normalize(text)
    assert len(doc.light) == len(text)
    assert len(doc.origin) == len(doc.dense)
    assert doc.origin == sorted(set(doc.origin))  # strictly increasing
    for i, ch in enumerate(doc.dense):
        assert fold(text[doc.origin[i]]) == ch
