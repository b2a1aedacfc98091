"""The segment registry (prompts/segments.yaml): a fifth segment added purely through content files
in a temporary content root is ingested, searched, drafted for and scheduled through the public API
and CLI; unknown segments and a broken registry are refused with a Chinese message."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from api_support import Api, error_of, make_api
from typer.testing import CliRunner

from copilot.config import CHECKOUT, Settings, get_settings
from copilot.domain import CheckContext, CustomerProfile, Segment
from copilot.segments import SegmentsFileError, UnknownSegment, load_segments, segment_ids, segments_of

NEW = "new_citizen"
NEW_NAME = "新市民客群"
SIGN_OFF = "来城里工作生活，办卡办事都可以找我。"
NC_WINDOWS = [(dt.time(12, 0), dt.time(13, 0)), (dt.time(19, 30), dt.time(21, 30))]

PERSONA = f"""\
segment: {NEW}
label: {NEW_NAME}
tone: 热情、实在；先讲办事路径，不推销
salutation: 您好
reading_level: 口语化短句，写清去哪办、带什么
max_chars: 180
emoji: none
lead_with: [工资卡与社保卡办理, 存款保险]
avoid: [承诺收益或与存款混同]
risk_ceiling: R1
preferred_formats: [文字, 图片]
sign_off: {SIGN_OFF}
suitable_products: [QH-DEP-001]
"""

CALENDAR = f"""\
segment: {NEW}
title: 新市民客群陪伴日历
timezone: Asia/Shanghai
windows:
  - {{start: "12:00", end: "13:00", label: 午休}}
  - {{start: "19:30", end: "21:30", label: 下班后}}
forbidden:
  - {{start: "13:00", end: "19:30", reason: 上班时间}}
default_channel: group
format_preference: [image, text]
mix: {{投教: 2, 权益: 1}}
themes:
  投教:
    - {{theme: 存款保险怎么保护您的存款, brief: 存款保险保障同一家银行每位存款人最高50万元的存款本金和利息。}}
    - {{theme: 识别非法集资, brief: 承诺高息、拉人头返利的“理财群”要警惕，遇到可以先问我。}}
  权益:
    - {{theme: 新市民办卡指南, brief: 带上身份证就可以到网点办理工资卡，社保卡激活也可以一起办。}}
weekly:
  tue:
    - {{time: "12:15", category: auto}}
  thu:
    - {{time: "20:00", category: 权益, column: 周四办事指南, theme: 新市民办卡指南,
       brief: 带上身份证就可以到网点办理工资卡，社保卡激活也可以一起办。}}
greeting_time: "12:10"
sample_groups:
  - {{id: nc-park, name: 科技园新市民群, segment: {NEW}}}
"""

PLAYBOOK = f"""\
---
id: playbook-{NEW}
title: 新市民客群经营手册
type: playbook
segments: [{NEW}]
version: "2026.1"
sample: true
tags: [新市民, 工资卡, 社保卡]
---

# 新市民客群经营手册

> 示例材料（虚构银行，仅供演示）。

## 客群特点

新市民刚来城市工作生活，最关心工资卡、社保卡怎么办、租房和子女入学要准备什么，对银行流程不熟悉。

## 什么有效

讲清办事路径：带什么证件、去哪个网点、多久办好；午休和下班后发消息；先服务再谈产品，只介绍存款等低风险产品。
"""

SCRIPT = f"""\
---
id: script-nc-01
title: 新市民问工资卡怎么办
type: script
segments: [{NEW}]
approval_no: "青禾合规〔2026〕话术第101号"
effective_date: 2026-03-01
expiry_date: 2027-12-31
version: "2026.1"
sample: true
tags: [新市民, 工资卡, 办卡]
---

# 新市民问工资卡怎么办

## 适用场景

刚到城里工作的客户问怎么办工资卡、要带什么。

## 话术

“您好，办工资卡很方便：带上本人身份证到我们网点就能办，大约二十分钟。
社保卡激活也可以一起办，来之前跟我说一声，我帮您提前取号。”
"""

# A few documents of the shipped knowledge base: enough to draft from, quick to embed. The first
# two list their segments (the new one is added to their front matter); the statute lists none,
# so it belongs to every segment of the registry.
SHIPPED_DOCS = [
    "products/QH-DEP-001.md",
    "education/存款保险.md",
    "regulations/存款保险条例.md",
]


def _add_segment(root: Path) -> None:
    """Everything a fifth segment needs, as content files only."""
    registry = root / "prompts" / "segments.yaml"
    data = yaml.safe_load(registry.read_text(encoding="utf-8"))
    data["segments"].append({"id": NEW, "name": NEW_NAME, "description": "新到城市工作生活的客户"})
    registry.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "prompts" / "personas" / f"{NEW}.yaml").write_text(PERSONA, encoding="utf-8")
    (root / "prompts" / "calendars" / f"{NEW}.yaml").write_text(CALENDAR, encoding="utf-8")
    (root / "knowledge" / "playbooks").mkdir(parents=True, exist_ok=True)
    (root / "knowledge" / "playbooks" / f"{NEW}.md").write_text(PLAYBOOK, encoding="utf-8")
    (root / "knowledge" / "scripts").mkdir(parents=True, exist_ok=True)
    (root / "knowledge" / "scripts" / "nc-01-新市民问工资卡.md").write_text(SCRIPT, encoding="utf-8")
    for rel in SHIPPED_DOCS[:2]:
        path = root / "knowledge" / rel
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("segments: [", f"segments: [{NEW}, ", 1), encoding="utf-8")


@pytest.fixture(scope="module")
def nc_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A content root copied from the checkout (prompts, guardrails, a few knowledge documents)
    with the fifth segment added, and its own freshly built index."""
    from copilot.retrieval import ingest

    root = tmp_path_factory.mktemp("content")
    shutil.copytree(CHECKOUT / "prompts", root / "prompts")
    shutil.copytree(CHECKOUT / "guardrails", root / "guardrails")
    for rel in SHIPPED_DOCS:
        (root / "knowledge" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CHECKOUT / "knowledge" / rel, root / "knowledge" / rel)
    _add_segment(root)
    settings = Settings(content_root=root, data_dir=root / "data", writer="template")
    report = ingest(None, settings)
    assert report.ok, report.failed
    assert report.added == len(SHIPPED_DOCS) + 2
    return settings


@pytest.fixture
def nc_api(nc_settings: Settings, tmp_path: Path) -> Iterator[Api]:
    settings = nc_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'audit.db'}"})
    with make_api(settings) as api:
        yield api


def _inside_windows(at: dt.datetime) -> bool:
    t = at.time()
    return any(start <= t < end for start, end in NC_WINDOWS)


# --- the registry itself -------------------------------------------------------------------------


def test_the_shipped_registry_lists_the_four_segments_in_order() -> None:
    registry = load_segments(Settings())
    assert registry.ids == ("credit_card", "payroll", "pension", "branch_nearby")
    assert registry.name("pension") == "社保养老客群"
    for spec in registry.segments:  # every listed segment has its persona and calendar file
        assert (CHECKOUT / "prompts" / "personas" / spec.persona_file).is_file()
        assert (CHECKOUT / "prompts" / "calendars" / spec.calendar_file).is_file()


def test_the_new_segment_exists_only_in_its_content_root(nc_settings: Settings) -> None:
    assert NEW in segment_ids(nc_settings)
    assert NEW not in segment_ids(Settings())
    with pytest.raises(ValueError, match="未知客群"):
        CustomerProfile(segment=NEW)  # the default content root does not know it
    with segments_of(nc_settings):
        assert Segment(NEW).label == NEW_NAME
        assert CheckContext(segment=NEW).segment == NEW


def test_unknown_segment_is_refused_with_the_choices() -> None:
    with pytest.raises(UnknownSegment) as err:
        Segment("vip")
    message = str(err.value)
    assert "未知客群 'vip'" in message and "pension（社保养老客群）" in message


def test_a_content_root_without_a_registry_uses_the_shipped_one(tmp_path: Path) -> None:
    assert load_segments(Settings(content_root=tmp_path)).ids == load_segments(Settings()).ids


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("segments: []\n", "segments"),
        ("segments:\n  - {id: Bad-Id, name: 坏}\n", "segments.0.id"),
        ("segments:\n  - {id: vip, name: 贵宾}\n  - {id: vip, name: 又一个}\n", "segments"),
        ("segments:\n  - {id: vip}\n", "segments.0.name"),
        ("segments: [\n", None),
    ],
)
def test_a_broken_registry_names_the_file_and_field(tmp_path: Path, text: str, field: str | None) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "segments.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SegmentsFileError) as err:
        load_segments(Settings(content_root=tmp_path))
    assert "segments.yaml" in str(err.value)
    if field:
        assert f"[{field}]" in str(err.value)


# --- the fifth segment through the public API ----------------------------------------------------


def test_documents_for_every_segment_include_the_new_one(nc_settings: Settings) -> None:
    from copilot.retrieval import Retriever

    r = Retriever(nc_settings)
    hits = r.search("存款保险 保障 50万元", k=10, segment=NEW)
    assert {h.doc_id for h in hits} >= {"edu-deposit-insurance", "law-deposit-insurance"}, hits
    playbook = r.search("新市民 工资卡 社保卡", k=5, segment=NEW)
    assert any(h.doc_id == f"playbook-{NEW}" for h in playbook)
    other = r.search("新市民 工资卡 社保卡", k=10, segment="pension")
    assert all(NEW not in h.doc_id for h in other)  # a segment's own playbook stays its own


def test_api_schedules_the_new_segment_from_its_calendar(nc_api: Api) -> None:
    resp = nc_api.post("/v1/schedules", json={"segment": NEW, "start": "2026-12-07", "weeks": 2})
    assert resp.status_code == 200, resp.text
    plan = resp.json()
    slots = plan["slots"]
    assert len(slots) == 4  # a Tuesday mix post and the Thursday column, two weeks
    for s in slots:
        at = dt.datetime.fromisoformat(s["at"])
        assert s["segment"] == NEW
        assert s["groups"] == ["nc-park"]
        assert _inside_windows(at), s["at"]
        assert s["verdict"] in ("pass", "revise", "block")
        assert s["verdict"] == "block" or s["copy"]
    thursdays = [s for s in slots if dt.datetime.fromisoformat(s["at"]).weekday() == 3]
    assert [s["theme"] for s in thursdays] == ["新市民办卡指南"] * 2
    assert all(s["column"] == "周四办事指南" for s in thursdays)
    md = nc_api.post(
        "/v1/schedules", json={"segment": NEW, "start": "2026-12-07", "weeks": 1}, params={"format": "md"}
    )
    assert md.status_code == 200 and md.text.startswith(f"# {NEW_NAME} 内容排期")


def test_api_drafts_for_the_new_segment_with_its_persona(nc_api: Api) -> None:
    body = {"message": "刚来城里上班，想办一张工资卡，要带什么？", "customer": {"segment": NEW}}
    resp = nc_api.post("/v1/drafts", json=body)
    assert resp.status_code == 200, resp.text
    d = resp.json()
    assert d["writer"] == "template"
    assert d["verdict"] != "block", d["findings"]
    assert len(d["draft"]) <= 180  # the new persona's length limit
    assert d["citations"], d
    assert {c["doc_id"] for c in d["citations"]} & {"script-nc-01", f"playbook-{NEW}"}, d["citations"]


def test_api_search_and_check_accept_the_new_segment(nc_api: Api) -> None:
    resp = nc_api.get("/v1/search", params={"q": "新市民 工资卡", "segment": NEW})
    assert resp.status_code == 200, resp.text
    assert any(h["doc_id"] == f"playbook-{NEW}" for h in resp.json()["hits"])
    resp = nc_api.post("/v1/check", json={"text": "欢迎来网点办卡", "context": {"segment": NEW}})
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(
    ("method", "path", "kw"),
    [
        ("post", "/v1/schedules", {"json": {"segment": "vip", "start": "2026-12-07", "weeks": 1}}),
        ("post", "/v1/drafts", {"json": {"message": "你好", "customer": {"segment": "vip"}}}),
        ("get", "/v1/search", {"params": {"q": "理财", "segment": "vip"}}),
    ],
)
def test_api_refuses_an_unknown_segment_with_422(nc_api: Api, method: str, path: str, kw: dict) -> None:
    resp = getattr(nc_api, method)(path, **kw)
    assert resp.status_code == 422, resp.text
    err = error_of(resp)
    assert "segment" in json.dumps(err, ensure_ascii=False)
    assert "未知客群" in json.dumps(err["detail"], ensure_ascii=False)


def test_a_default_app_does_not_know_the_new_segment(api_default: Api) -> None:
    resp = api_default.post("/v1/schedules", json={"segment": NEW, "start": "2026-12-07", "weeks": 1})
    assert resp.status_code == 422
    assert "未知客群" in json.dumps(error_of(resp)["detail"], ensure_ascii=False)


@pytest.fixture
def api_default(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'a.db'}")
    with make_api(settings) as api:
        yield api


# --- the fifth segment through the CLI -----------------------------------------------------------


@pytest.fixture
def cli(nc_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    """The copilot CLI with its settings (environment) on the temporary content root."""
    from copilot.cli import app

    monkeypatch.setenv("COPILOT_CONTENT_ROOT", str(nc_settings.content_root))
    monkeypatch.setenv("COPILOT_DATA_DIR", str(nc_settings.data_dir))
    monkeypatch.setenv("COPILOT_WRITER", "template")
    get_settings.cache_clear()
    yield app
    get_settings.cache_clear()


def test_cli_schedules_and_drafts_for_the_new_segment(cli: typer.Typer) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["schedule", "-s", NEW, "--start", "2026-12-07", "-w", "1", "-f", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["segment"] == NEW and len(plan["slots"]) == 2
    assert all(_inside_windows(dt.datetime.fromisoformat(s["at"])) for s in plan["slots"])
    result = runner.invoke(cli, ["draft", "-s", NEW, "-m", "想办工资卡，要带什么？", "--json"])
    assert result.exit_code in (0, 3), result.output
    assert json.loads(result.stdout)["writer"] == "template"


@pytest.mark.parametrize(
    "args",
    [
        ["schedule", "-s", "vip", "--start", "2026-12-07", "-w", "1"],
        ["draft", "-s", "vip", "-m", "你好"],
        ["check", "你好", "--segment", "vip"],
        ["search", "理财", "--segment", "vip"],
    ],
)
def test_cli_refuses_an_unknown_segment_with_exit_2(cli: typer.Typer, args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "未知客群" in result.output and NEW in result.output  # the choices include the new one


def test_ingest_reports_a_front_matter_segment_the_registry_lacks(nc_settings: Settings, tmp_path: Path) -> None:
    from copilot.retrieval import ingest

    bad = tmp_path / "kb" / "bad.md"
    bad.parent.mkdir()
    bad.write_text("---\nid: bad\ntitle: 坏\nsegments: [students]\n---\n正文。\n", encoding="utf-8")
    report = ingest([bad.parent], nc_settings.model_copy(update={"data_dir": tmp_path / "data"}))
    assert [p for p, _ in report.failed] == [str(bad)]
    assert "未知客群" in report.failed[0][1] and "[segments]" in report.failed[0][1]


def test_adding_a_segment_widens_already_indexed_documents(tmp_path: Path) -> None:
    """An index built before the segment existed: ingest again and every-segment documents
    are found for the new one too (the unchanged file is re-indexed, not skipped)."""
    from copilot.retrieval import Retriever, ingest

    root = tmp_path / "root"
    shutil.copytree(CHECKOUT / "prompts", root / "prompts")
    doc = root / "knowledge" / "regulations" / "存款保险条例.md"  # no segments: every segment's
    doc.parent.mkdir(parents=True)
    shutil.copy(CHECKOUT / "knowledge" / "regulations" / "存款保险条例.md", doc)
    settings = Settings(content_root=root, data_dir=root / "data")
    assert ingest(None, settings).added == 1
    _add_segment(root)
    (root / "knowledge" / "playbooks" / f"{NEW}.md").unlink()
    (root / "knowledge" / "scripts" / "nc-01-新市民问工资卡.md").unlink()
    report = ingest(None, settings)
    assert (report.updated, report.unchanged) == (1, 0)
    assert Retriever(settings).search("存款保险", k=3, segment=NEW)
    assert ingest(None, settings).unchanged == 1


def test_api_lists_the_segments_of_its_content_root(nc_api: Api, api_default: Api) -> None:
    listed = nc_api.get("/v1/segments").json()["segments"]
    assert [s["id"] for s in listed] == ["credit_card", "payroll", "pension", "branch_nearby", NEW]
    assert listed[-1]["name"] == NEW_NAME
    assert NEW not in {s["id"] for s in api_default.get("/v1/segments").json()["segments"]}
    assert nc_api.get("/v1/segments", as_user=None).status_code == 401
