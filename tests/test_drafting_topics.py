"""Finding what a question is about: products by alias, needs in words, follow-ups."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from copilot.config import CHECKOUT, Settings
from copilot.drafting.topics import NeedsFileError, find_topics, load_needs

SETTINGS = Settings(content_root=CHECKOUT)


def ids(topics) -> list[str]:
    return [n.id for n in topics.needs]


@pytest.mark.parametrize(
    ("message", "segment", "product"),
    [
        ("月月盈现在收益怎么样？", "payroll", "QH-WM-R2-003"),
        ("天天利今天能取出来吗", "payroll", "QH-WM-R1-001"),
        ("安享养老这个靠谱吗", "pension", "QH-WM-R2-002"),
        ("大额存单还有额度吗", "branch_nearby", "QH-DEP-002"),
        ("QH-wm-r3-001 是什么", "branch_nearby", "QH-WM-R3-001"),
    ],
)
def test_products_are_found_by_their_short_names(message: str, segment: str, product: str) -> None:
    assert find_topics(message, segment, SETTINGS).products[:1] == (product,)


def test_needs_in_words_point_to_products_and_passages() -> None:
    t = find_topics("工资刚到账，有什么比活期收益高一点又能随时取的？", "payroll", SETTINGS)
    assert t.products == ()
    assert ids(t)[:2] == ["salary_day", "liquidity"]
    assert "QH-WM-R1-001" in t.implied_products
    assert "edu-liquidity" in t.passages

    t = find_topics("银行倒闭了我的钱怎么办", "pension", SETTINGS)
    assert ids(t) == ["deposit_insurance"] and "edu-deposit-insurance" in t.passages

    t = find_topics("我刚工作两年，每月能存两千，怎么打理比较好？", "payroll", SETTINGS)
    assert "small_regular_saving" in ids(t)

    assert "cinema_ticket" in ids(find_topics("周五的电影票怎么领？", "credit_card", SETTINGS))


def test_segment_only_needs_stay_in_their_segment() -> None:
    assert "salary_day" not in ids(find_topics("发工资了", "pension", SETTINGS))


def test_a_follow_up_is_about_the_previous_turns_product() -> None:
    history = ["月月盈现在收益怎么样？", "您好，薪享月月盈的业绩比较基准为年化2.10%-2.70%……"]
    t = find_topics("那它能随时取吗？", "payroll", SETTINGS, history)
    assert t.products == ("QH-WM-R2-003",) and t.from_history
    assert "liquidity" in ids(t)
    # a message that names its own product, or points at nothing, ignores the history
    assert find_topics("天天利呢？", "payroll", SETTINGS, history).products == ("QH-WM-R1-001",)
    assert find_topics("你们几点开门？", "payroll", SETTINGS, history).products == ()


def test_nothing_to_find() -> None:
    assert find_topics("你们网点几点开门？", "branch_nearby", SETTINGS).empty


def test_a_broken_needs_file_names_file_and_field(tmp_path: Path) -> None:
    shutil.copy(CHECKOUT / "prompts" / "needs.yaml", tmp_path / "needs.yaml")
    assert load_needs(tmp_path)
    (tmp_path / "needs.yaml").write_text("needs:\n  - id: x\n    name: y\n    phrases: []\n", encoding="utf-8")
    with pytest.raises(NeedsFileError, match=r"needs\.0\.phrases"):
        load_needs(tmp_path)
    assert load_needs(tmp_path / "missing") == ()


def test_a_phrase_may_leave_a_gap_and_broad_needs_come_last() -> None:
    t = find_topics("工资每个月大概能剩两千，有啥理财推荐的", "payroll", SETTINGS)
    assert ids(t)[0] == "small_regular_saving"  # "每个月…剩"
    # "放哪" is broad: the specific need (随时取) says which product answers first
    t = find_topics("还款日前有笔钱闲着，放哪能随时取出来还卡", "credit_card", SETTINGS)
    assert ids(t)[0] == "liquidity" and t.implied_products[0] == "QH-WM-R1-001"


def test_benefits_and_services_named_in_sheets_find_their_product() -> None:
    assert find_topics("你们那个薪享贷利息多少", "payroll", SETTINGS).products == ("QH-PAY-001",)
    assert find_topics("个人养老金我退休了怎么领", "pension", SETTINGS).products == ("QH-PEN-001",)
    assert find_topics("那个2045的养老基金适合我买不", "pension", SETTINGS).products == ("QH-PEN-002",)
    # the need's scripts: 拍花 names the flower-photography outing's approved invitation
    assert find_topics("拍花那个活动几点集合？", "branch_nearby", SETTINGS).scripts[0] == "script-br-02"


def test_a_follow_up_that_names_nothing_carries_on_the_earlier_topic() -> None:
    history = ["信用卡年费多少？", "您好，普卡、金卡首年免年费。"]
    t = find_topics("那第二年呢，怎么才能不交？", "credit_card", SETTINGS, history)
    assert t.from_history and "card_fee" in ids(t)
    # a new question with no continuation word does not
    assert find_topics("你们几点开门？", "credit_card", SETTINGS, history).empty


def test_chinese_numerals_meet_the_sheets_figures() -> None:
    from copilot.drafting.topics import arabic

    assert arabic("定期存三年跟存五年") == "定期存3年跟存5年"
    assert arabic("存了六十万，分十二期") == "存了60万，分12期"
