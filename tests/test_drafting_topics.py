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


def test_a_follow_up_with_a_need_of_its_own_keeps_the_conversations_product() -> None:
    # "急用" alone points to 天天利; after a turn about 安享养老 it is asked of 安享养老
    t = find_topics("那要是中间家里急用钱，能拿出来不", "pension", SETTINGS, ["安享养老一年能取出来吗"])
    assert t.products == ("QH-WM-R2-002",) and t.from_history and "liquidity" in ids(t)
    # the earlier turn's needs come after the message's own (它跟周三半价 → 周四满减 too)
    t = find_topics("那它跟周三那个半价能一起用不", "credit_card", SETTINGS, ["你们周四那个满减在哪些店能用？"])
    assert ids(t)[0] == "dining_voucher" and "merchant_day" in ids(t)
    # needs that point to no product ("是不是亏了") are about the product discussed
    t = find_topics("我看手机上咋又少了几百块，是不是亏了", "pension", SETTINGS, ["我前几个月买的安享养老，最近咋样了"])
    assert t.products == ("QH-WM-R2-002",)


def test_kind_only_names_do_not_say_which_product() -> None:
    from copilot.drafting.topics import kind_only, own_name
    from copilot.knowledge import product_catalog

    assert kind_only("养老理财") and kind_only("股票基金") and kind_only("混合的理财") and kind_only("工资卡")
    assert not kind_only("安享养老理财") and not kind_only("特定养老储蓄") and not kind_only("薪享卡")
    catalog = product_catalog(SETTINGS.knowledge_dir)
    assert own_name(catalog["QH-FD-R4-001"]) == "成长精选"
    assert find_topics("同事推荐的那个股票基金我能买吗", "payroll", SETTINGS).products == ("QH-FD-R4-001",)


def test_known_gaps_are_unanswered_and_bring_no_other_need() -> None:
    t = find_topics("信用卡账单日能改不？想改到发工资后面几天", "credit_card", SETTINGS)
    assert t.unanswered and ids(t) == ["statement_date"]
    assert not find_topics("大额存单还有额度吗", "branch_nearby", SETTINGS).unanswered
