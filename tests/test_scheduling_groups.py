"""Groups files (--groups): YAML or JSON, every error names the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.scheduling.errors import CalendarError
from copilot.scheduling.groups import load_groups


def test_yaml_and_json_read_the_same(tmp_path: Path) -> None:
    groups = [
        {"id": "pay-a", "name": "甲公司员工群", "segment": "payroll", "pay_day": 15, "industry": "地产"},
        {"id": "pen-1", "segment": "pension", "chat_id": "wrOgAAA", "sent": {"2026-12": 3}},
    ]
    y = tmp_path / "groups.yaml"
    y.write_text(
        "groups:\n"
        "  - {id: pay-a, name: 甲公司员工群, segment: payroll, pay_day: 15, industry: 地产}\n"
        "  - {id: pen-1, segment: pension, chat_id: wrOgAAA, sent: {2026-12: 3}}\n",
        encoding="utf-8",
    )
    j = tmp_path / "groups.json"
    j.write_text(json.dumps(groups, ensure_ascii=False), encoding="utf-8")  # a bare list is fine too
    assert load_groups(y) == load_groups(j)
    pay, pen = load_groups(y)
    assert pay.pay_day == 15 and pay.label == "甲公司员工群"
    assert pen.sent == {"2026-12": 3} and pen.label == "pen-1"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("groups:\n  - {id: a, segment: vip}\n", "groups[0].segment", "vip"),
        ("groups:\n  - {id: a, segment: payroll, pay_day: 32}\n", "groups[0].pay_day", "31"),
        ("groups:\n  - {id: 'a b', segment: payroll}\n", "groups[0].id", "空白"),
        ("groups:\n  - {id: a, segment: pension, sent: {'2026/12': 1}}\n", "groups[0].sent", "YYYY-MM"),
        ("groups:\n  - {id: a, segment: pension}\n  - {id: a, segment: pension}\n", "groups[1].id", "重复"),
        ("groups:\n  - {id: a, segment: pension, colour: red}\n", "groups[0].colour", "未知字段"),
    ],
)
def test_bad_groups_name_the_field(tmp_path: Path, body: str, field: str, words: str) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CalendarError) as err:
        load_groups(path)
    assert err.value.path == str(path)
    assert err.value.field == field
    assert words in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="不存在"):
        load_groups(tmp_path / "nope.yaml")
    with pytest.raises(CalendarError, match="目录"):
        load_groups(tmp_path)
    bad = tmp_path / "g.json"
    bad.write_text("{groups: [", encoding="utf-8")
    with pytest.raises(CalendarError, match="JSON"):
        load_groups(bad)
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("groups:\n  - {id: 甲, segment: pension}\n".encode("gbk"))
    with pytest.raises(CalendarError, match="UTF-8"):
        load_groups(gbk)
    empty = tmp_path / "empty.yaml"
    empty.write_text("groups: []\n", encoding="utf-8")
    with pytest.raises(CalendarError) as err:
        load_groups(empty)
    assert err.value.field == "groups"
