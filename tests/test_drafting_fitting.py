"""Fitting a draft to the persona's length limit (copilot/drafting/fitting.py): whole sentences
are dropped, least relevant first; required ones, and what they lean on, always stay."""

from __future__ import annotations

from copilot.drafting.fitting import DISCLOSURE, Layout, renumber_ordinals, split_pieces, visible_length

SIGN_OFF = "有需要随时联系我。"


def _measure(text: str) -> int:
    return visible_length(text, [SIGN_OFF])


def test_visible_length_leaves_out_markers_disclosure_and_sign_off() -> None:
    body = "您好，基准不是承诺[1]。"
    assert visible_length(f"{body}\n{DISCLOSURE}。\n{SIGN_OFF}", [SIGN_OFF]) == len("您好，基准不是承诺。\n。")
    assert visible_length(body) == len(body) - 3


def test_pieces_know_what_they_lean_on() -> None:
    text = (
        "基准是2.90%-3.80%。3.5%在这个范围里，但不是承诺。另外，它是R2。\n"
        "比如：\n1. 跨行转账免费。再补一句。\n2. 取现免费；"
    )
    pieces = split_pieces(text)
    texts = [p.text for p in pieces]
    assert texts[:3] == ["基准是2.90%-3.80%。", "3.5%在这个范围里，但不是承诺。", "另外，它是R2。"]
    assert pieces[1].needs == {0} and pieces[2].needs == {1}  # "这个范围", "另外" lean back
    intro = texts.index("比如：")
    assert pieces[intro].intro
    first_item, second_sentence, second_item = intro + 1, intro + 2, intro + 3
    assert pieces[first_item].needs == {intro} and pieces[second_item].needs == {intro}
    assert pieces[second_sentence].needs == {first_item}  # an item is kept from its start
    assert not pieces[0].needs


def test_fit_keeps_required_pieces_and_drops_the_least_relevant() -> None:
    layout = Layout()
    layout.add("您好，", glue=True, required=True)
    layout.add(
        "天气不错。跨行转账免费。他行取现每月前5笔免费。欢迎常来网点坐坐，我们这里有茶。",
        query="跨行转账要手续费吗",
        cite=7,
    )
    layout.add(f"{DISCLOSURE}。", required=True)
    full = layout.text()
    text = layout.fit(12, _measure)
    assert _measure(text) <= 12 < _measure(full)
    assert text.startswith("您好，") and "跨行转账免费" in text and DISCLOSURE in text
    assert "天气不错" not in text and "有茶" not in text
    assert "[7]" in text  # the section's citation moves onto what is kept
    # never a cut sentence: every kept sentence is one of the originals
    originals = {"天气不错。", "跨行转账免费。", "他行取现每月前5笔免费。", "欢迎常来网点坐坐，我们这里有茶。"}
    body = text.replace("您好，", "").replace(f"\n{DISCLOSURE}。", "").replace("[7]", "")
    assert all(s + "。" in originals for s in body.split("。") if s)


def test_required_pieces_stay_even_over_the_limit() -> None:
    layout = Layout()
    layout.add("这是一句必须说的很长很长的话，不能省略。", required=True)
    layout.add("这句可以省。", query="可以")
    text = layout.fit(5, _measure)
    assert text == "这是一句必须说的很长很长的话，不能省略。"


def test_a_piece_comes_with_what_it_leans_on_or_not_at_all() -> None:
    layout = Layout()
    layout.add("您好，", glue=True, required=True)
    layout.add(
        "说明书上写的业绩比较基准是年化2.90%-3.80%，是参考指数历史表现扣除费用测算的。3.5%在这个范围里，但不是承诺。",
        query="能拿到3.5%吗",
    )
    text = layout.fit(30, _measure)
    assert text == "您好，"  # the "3.5%" sentence alone would not make sense, both do not fit
    text = layout.fit(80, _measure)
    assert "2.90%-3.80%" in text and "3.5%在这个范围里" in text


def test_lists_lose_items_cleanly() -> None:
    layout = Layout()
    layout.add("可以这样做：\n1. 打开开抢提醒；\n2. 看看当天其他栏目；\n3. 下期十点再来；", query="开抢提醒")
    text = layout.fit(17, _measure)
    assert text == "可以这样做：\n1. 打开开抢提醒。"  # renumbered, the list ends with a full stop
    layout = Layout()
    layout.add("我跟您说实话：\n一是，甲不保本。\n二是，乙是R2。\n三是，丙要持有一年。", query="丙 持有")
    text = layout.fit(22, _measure)
    assert "一是，丙要持有一年。" in text and "甲" not in text and "乙" not in text
    assert text.startswith("我跟您说实话：")  # the introduction stays with an item it introduces
    layout = Layout()
    layout.add("比如：\n1. 很长很长很长很长很长很长的一项。", query="无关")
    layout.add("别的话。", required=True)
    assert layout.fit(6, _measure) == "别的话。"  # an introduction is never left alone


def test_chinese_ordinals_are_renumbered_only_when_broken() -> None:
    assert renumber_ordinals("一是，甲。\n二是，乙。") == "一是，甲。\n二是，乙。"
    assert renumber_ordinals("二是，乙。\n三是，丙。") == "一是，乙。\n二是，丙。"
