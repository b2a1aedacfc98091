"""Automatic fixes: edits apply right to left, overlapping edits are refused, appended sentences
appear once and after a proper break."""

from __future__ import annotations

import pytest

from copilot.compliance.fixes import FixAction, FixConflict, append_sentence, apply_fixes

DISCLOSURE = "理财非存款、产品有风险、投资须谨慎。"


def test_edits_and_appends_combine() -> None:
    text = "最佳选择，电话13812345678"
    actions = [
        FixAction("mask", 7, 18, "138****5678"),
        FixAction("replace", 0, 2, "优选"),
        FixAction("append", text=DISCLOSURE),
        FixAction("append", text=DISCLOSURE),
    ]
    assert apply_fixes(text, actions) == "优选选择，电话138****5678。" + DISCLOSURE


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(FixConflict):
        apply_fixes("保本保息", [FixAction("replace", 0, 2, "x"), FixAction("replace", 1, 3, "y")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("欢迎咨询", "欢迎咨询。" + DISCLOSURE),
        ("欢迎咨询！", "欢迎咨询！" + DISCLOSURE),
        ("欢迎咨询。  ", "欢迎咨询。" + DISCLOSURE),
        ("第一行\n第二行", "第一行\n第二行\n" + DISCLOSURE),
        ("", DISCLOSURE),
    ],
)
def test_append_sentence_breaks_properly(text: str, expected: str) -> None:
    assert append_sentence(text, DISCLOSURE) == expected
