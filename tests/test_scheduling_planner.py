"""The planner: windows, caps, holidays, verdicts, and what it leaves out (with the reason).

Most tests run the real drafting and compliance code (template writer) on an empty data
directory: the properties tested here do not depend on the retrieval corpus, and an empty index
keeps a hypothesis run to seconds. The tests at the end use the indexed knowledge base
(``kb_settings``) to check the copy itself: verdicts and citations.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.config import Settings
from copilot.scheduling.calendars import Category, load_calendar, load_holiday_policy
from copilot.scheduling.caps import COUNTED_CHANNELS, CapPolicy
from copilot.scheduling.groups import Group
from copilot.scheduling.holidays import day_info
from copilot.scheduling.planner import Plan, PlanError, plan
from copilot.segments import segment_ids

SHANGHAI = "Asia/Shanghai"

segments = st.sampled_from(list(segment_ids()))
starts = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31))
caps = st.one_of(
    st.none(),
    st.builds(CapPolicy, per_month=st.integers(1, 31)),
    st.builds(CapPolicy, per_month=st.integers(1, 8), per_week=st.integers(1, 7), per_day=st.integers(1, 2)),
)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("no-index"))


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cap_counts(p: Plan) -> tuple[Counter, Counter, Counter]:
    month: Counter = Counter()
    week: Counter = Counter()
    day: Counter = Counter()
    for s in p.slots:
        if s.channel not in COUNTED_CHANNELS:
            continue
        d = s.at.date()
        for g in s.groups:
            month[(g, d.year, d.month)] += 1
            week[(g, tuple(d.isocalendar())[:2])] += 1
            day[(g, d)] += 1
    return month, week, day


@PROPS
@given(segment=segments, start=starts, weeks=st.integers(1, 6), cap=caps)
def test_plan_properties(
    plain: Settings, segment: str, start: dt.date, weeks: int, cap: CapPolicy | None
) -> None:
    p = plan(segment, start, weeks, cap_policy=cap, settings=plain)
    cal = load_calendar(segment)
    policy = load_holiday_policy()
    end = start + dt.timedelta(days=7 * weeks - 1)
    assert p.end == end

    # every slot inside the plan, inside the segment's windows, in Shanghai time, with a verdict
    for s in p.slots:
        assert start <= s.at.date() <= end
        assert str(s.at.tzinfo) == SHANGHAI
        assert cal.allows(s.at.time(), s.at.weekday()), (s.at, s.theme)
        assert s.verdict in ("pass", "revise", "block")
        if s.verdict == "block":
            assert s.findings, "a blocked post must say why"
            assert s.payload["submittable"] is False and "body" not in s.payload
        else:
            assert s.copy_text.strip()
            assert s.payload["submittable"] is (not s.payload.get("errors"))

    # the WeCom cap is never exceeded, per group and month (and week/day when set)
    policy_cap = cap or CapPolicy()
    month, week, day = _cap_counts(p)
    for (_, year, mon), n in month.items():
        assert n <= policy_cap.month_limit(year, mon)
    if policy_cap.per_week:
        assert max(week.values(), default=0) <= policy_cap.per_week
    if policy_cap.per_day:
        assert max(day.values(), default=0) <= policy_cap.per_day

    # holidays: no dropped categories, the daily maximum, a greeting on each holiday's first day
    per_day = Counter(s.at.date() for s in p.slots)
    for s in p.slots:
        info = day_info(s.at.date())
        if info.holiday:
            rule = policy.resolve(info.holiday, cal.holidays)
            assert s.source == "holiday" or s.category not in rule.drop_categories
            assert per_day[s.at.date()] <= rule.max_posts_per_day
    for offset in range(7 * weeks):
        d = start + dt.timedelta(days=offset)
        info = day_info(d)
        if not info.holiday or not (info.first_day or d == start):
            continue
        rule = policy.resolve(info.holiday, cal.holidays)
        greeting = policy.names[info.holiday].greeting
        if rule.greeting and greeting and rule.max_posts_per_day:
            here = [s for s in p.slots if s.at.date() == d and s.theme == greeting]
            capped = [
                lo for lo in p.left_out if lo.at.date() == d and lo.theme == greeting and lo.rule == "cap"
            ]
            assert here or capped, f"{d} {info.holiday}: no greeting and no reason"
            assert all(s.category == Category.festival for s in here)

    # left-out posts carry a reason
    for lo in p.left_out:
        assert lo.reason and lo.groups
        assert start <= lo.at.date() <= end


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segment=segments, start=starts, weeks=st.integers(1, 5), per_month=st.integers(1, 6))
def test_a_cap_drops_nothing_silently(
    plain: Settings, segment: str, start: dt.date, weeks: int, per_month: int
) -> None:
    """Every post of the uncapped plan is, for each of its groups, either in the capped plan or
    listed as left out because of the cap."""
    free = plan(segment, start, weeks, settings=plain)
    capped = plan(segment, start, weeks, cap_policy=CapPolicy(per_month=per_month), settings=plain)
    # keyed by day, not minute: a post may move 15 minutes when the cap removes its neighbour
    kept = defaultdict(set)
    for s in capped.slots:
        kept[(s.at.date(), s.channel, s.theme)] |= set(s.groups)
    dropped = defaultdict(set)
    for lo in capped.left_out:
        if lo.rule == "cap":
            dropped[(lo.at.date(), lo.channel, lo.theme)] |= set(lo.groups)
    for s in free.slots:
        key = (s.at.date(), s.channel, s.theme)
        assert set(s.groups) == kept[key] | dropped[key], key
        assert not kept[key] & dropped[key]


def test_credit_card_columns_fall_on_their_weekdays(plain: Settings) -> None:
    p = plan("credit_card", dt.date(2026, 12, 1), 1, settings=plain)
    by_theme = {s.theme: s.at for s in p.slots}
    for theme, weekday in [
        ("周二早鸟五折", 1),
        ("周三半价日", 2),
        ("周四合作商户权益日", 3),
        ("周五影票日", 4),
    ]:
        assert by_theme[theme].weekday() == weekday
    assert {s.column for s in p.slots if s.column} == {
        "周二早鸟五折",
        "周三半价日",
        "周四合作商户权益日",
        "周五影票日",
    }


def test_tight_cap_reports_what_it_left_out_and_keeps_columns_apart(plain: Settings) -> None:
    p = plan("credit_card", dt.date(2026, 12, 1), 4, cap_policy=CapPolicy(per_month=4), settings=plain)
    sends = sorted(s.at for s in p.slots if s.channel in COUNTED_CHANNELS)
    assert len(sends) == 4  # four a month for every sample group
    assert all(s.column for s in p.slots if s.channel in COUNTED_CHANNELS), "columns outrank mix posts"
    gaps = [(b - a).days for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= 3, f"kept posts should spread over the month, got gaps {gaps}"
    cap_left = [lo for lo in p.left_out if lo.rule == "cap"]
    assert cap_left and all("上限" in lo.reason for lo in cap_left)
    assert any("未排入" in n for n in p.notes)
    assert all(lo.channel in COUNTED_CHANNELS for lo in cap_left)  # moments are not capped


def test_already_sent_messages_use_up_the_cap(plain: Settings) -> None:
    groups = [
        Group(id="full", segment="pension", sent={"2026-12": 31}),
        Group(id="fresh", segment="pension"),
    ]
    p = plan("pension", dt.date(2026, 12, 1), 1, groups=groups, settings=plain)
    sends = [s for s in p.slots if s.channel in COUNTED_CHANNELS]
    assert sends and all(s.groups == ["fresh"] for s in sends)
    assert {tuple(lo.groups) for lo in p.left_out if lo.rule == "cap"} == {("full",)}


def test_spring_festival_rules_for_pension(plain: Settings) -> None:
    # 2026 Spring Festival holiday: 02-15 .. 02-23 (chinese-calendar), 02-14 a make-up workday
    p = plan("pension", dt.date(2026, 2, 9), 3, settings=plain)
    holiday = [s for s in p.slots if dt.date(2026, 2, 15) <= s.at.date() <= dt.date(2026, 2, 23)]
    greeting = [s for s in holiday if s.source == "holiday"]
    assert len(greeting) == 1 and greeting[0].at.date() == dt.date(2026, 2, 15)
    assert greeting[0].theme == load_holiday_policy().names["Spring Festival"].greeting
    assert greeting[0].category == Category.festival
    assert not [s for s in holiday if s.category in (Category.product, Category.education)]
    assert max(Counter(s.at.date() for s in holiday).values()) == 1
    assert all(s.holiday == "春节" for s in holiday)
    reasons = [lo.reason for lo in p.left_out if lo.rule == "holiday"]
    assert reasons and all("春节" in r for r in reasons)
    # ordinary days around the holiday still get their posts
    assert [s for s in p.slots if s.at.date() == dt.date(2026, 2, 24)]


def test_offline_events_pause_over_spring_festival(plain: Settings) -> None:
    p = plan("branch_nearby", dt.date(2026, 2, 2), 4, settings=plain)
    paused = [lo for lo in p.left_out if "线下活动暂停" in lo.reason]
    assert paused, "events on Spring Festival days are left out with the reason"
    events = [s for s in p.slots if s.source == "event"]
    assert events, "events outside the holiday still run"
    for s in events:
        assert s.event_day is not None
        assert day_info(s.event_day).holiday != "Spring Festival"


def test_branch_events_follow_their_iso_week_cycle(plain: Settings) -> None:
    p = plan("branch_nearby", dt.date(2026, 11, 2), 6, settings=plain)
    cal = load_calendar("branch_nearby")
    pingpong = cal.events[0]
    announcements = [s for s in p.slots if s.source == "event" and "报名开始" in s.theme]
    assert announcements
    for s in announcements:
        event_day = s.at.date() + dt.timedelta(days=5)
        assert (
            event_day.weekday() == 5
            and event_day.isocalendar()[1] % pingpong.every_weeks == pingpong.week_offset
        )
        assert f"{event_day.month}月{event_day.day}日" in s.theme
        assert "乒乓球" in s.brief and cal.rm_persona in s.brief


def test_payroll_follow_ups_shift_with_the_holidays(plain: Settings) -> None:
    # Pay day 15 in Feb 2026 is a Spring Festival Sunday; the workday before is Sat 02-14 (a make-up day).
    groups = [Group(id="dev", segment="payroll", pay_day=15, industry="互联网", employer="禾信科技")]
    p = plan("payroll", dt.date(2026, 2, 9), 2, groups=groups, settings=plain)
    follow = {s.at.date(): s for s in p.slots if s.source == "payday"}
    assert dt.date(2026, 2, 13) in follow  # the day before pay day
    paid = follow[dt.date(2026, 2, 14)]
    assert paid.channel == "one_to_one"
    assert paid.theme == "工资到账：零钱打理与个人养老金的两步安排"  # the industry's own theme
    assert "2月14日" in paid.brief  # customers are told the (shifted) pay date
    # the product post the day after falls on a holiday and is left out, with the reason
    assert any(lo.at.date() == dt.date(2026, 2, 15) and "产品" in lo.reason for lo in p.left_out)


def test_payroll_groups_with_different_pay_days_get_their_own_slots(plain: Settings) -> None:
    groups = [
        Group(id="a", segment="payroll", pay_day=10),
        Group(id="b", segment="payroll", pay_day=20),
    ]
    p = plan("payroll", dt.date(2026, 12, 1), 4, groups=groups, settings=plain)
    targets = {(s.at.date(), tuple(s.groups)) for s in p.slots if s.source == "payday"}
    assert (dt.date(2026, 12, 11), ("a",)) in targets  # 10th is a Thursday: no shift; +1 day
    assert (dt.date(2026, 12, 19), ("b",)) in targets  # 20th is a Sunday: paid Fri 18th; +1 day
    weekly = [s for s in p.slots if s.source == "weekly" and s.channel == "group"]
    assert all(s.groups == ["a", "b"] for s in weekly)


def test_years_without_holiday_data_are_noted(plain: Settings) -> None:
    p = plan("pension", dt.date(2026, 12, 21), 3, settings=plain)
    assert any("2027" in n and "chinese-calendar" in n for n in p.notes)
    assert p.slots[-1].at.year == 2027


def test_group_chat_ids_reach_the_payload(plain: Settings) -> None:
    groups = [Group(id="g1", segment="pension", chat_id="wrOg1", tags=["t1"])]
    p = plan("pension", dt.date(2026, 12, 1), 1, groups=groups, settings=plain)
    group_sends = [s for s in p.slots if s.channel == "group" and s.payload.get("submittable")]
    for s in group_sends:
        assert s.payload["body"]["chat_id_list"] == ["wrOg1"]
    moments = [s for s in p.slots if s.channel == "moments" and s.payload.get("submittable")]
    for s in moments:
        assert s.payload["body"]["visible_range"]["external_contact_list"]["tag_list"] == ["t1"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"segment": "vip"}, "未知客群"),
        ({"weeks": 0}, "周数"),
        ({"weeks": 27}, "周数"),
        ({"start": "2026-12-01"}, "开始日期"),
        ({"groups": [Group(id="x", segment="payroll")]}, "没有"),
    ],
)
def test_bad_input_is_refused_in_chinese(plain: Settings, kwargs: dict, words: str) -> None:
    args = {"segment": "pension", "start": dt.date(2026, 12, 1), "weeks": 1, **kwargs}
    with pytest.raises(PlanError, match=words):
        plan(**args, settings=plain)


def test_posts_to_the_same_group_do_not_pile_up_at_one_minute(plain: Settings) -> None:
    # Week 46 of 2026: the table-tennis sign-up (Mon 19:30) meets the Monday mix post (19:30).
    p = plan("branch_nearby", dt.date(2026, 11, 9), 1, settings=plain)
    monday = sorted(s.at for s in p.slots if s.at.date() == dt.date(2026, 11, 9) and s.channel == "group")
    assert len(monday) == 2 and monday[0] != monday[1]
    signup = next(s for s in p.slots if "报名开始" in s.theme)
    assert signup.at.time() == dt.time(19, 30)  # the event post outranks the mix post and keeps its time


# --- the copy itself, on the indexed knowledge base ------------------------------------------


def test_pension_two_weeks_pass_or_revised_with_citations(kb_settings: Settings) -> None:
    p = plan("pension", dt.date(2026, 12, 1), 2, settings=kb_settings)
    assert len(p.slots) >= 10
    for s in p.slots:
        assert s.verdict in ("pass", "revise"), (s.theme, s.findings)
        assert s.copy_text.strip()
        assert s.payload["submittable"] is True
        assert s.payload["body"]["text"]["content"] == s.copy_text
    assert any(s.citations for s in p.slots), "post copy should rest on retrieved sources"


def test_a_blocked_post_stays_in_the_plan_with_its_findings(tmp_path, kb_settings: Settings) -> None:
    """A calendar brief that mixes wealth products up with deposit insurance is blocked by the
    guardrail; the plan keeps the post, flagged, and gives no submittable body."""
    import shutil

    import yaml

    from copilot.config import CHECKOUT

    shutil.copytree(CHECKOUT / "prompts", tmp_path / "prompts")
    path = tmp_path / "prompts" / "calendars" / "pension.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["weekly"] = {"mon": [{"time": "09:30", "category": "产品", "theme": "稳稳的养老理财",
                               "brief": "这款理财和存款一样受存款保险保障，保本保收益。"}]}  # fmt: skip
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = kb_settings.model_copy(update={"content_root": tmp_path})
    p = plan("pension", dt.date(2026, 12, 7), 1, settings=settings)
    assert [s.theme for s in p.slots] == ["稳稳的养老理财"]
    s = p.slots[0]
    assert s.verdict == "block" and s.findings
    assert s.payload["submittable"] is False and "body" not in s.payload
    assert any("拦截" in n for n in p.notes)
