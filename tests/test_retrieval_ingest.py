"""Incremental ingestion: counts across runs, bad files, size limit, repair after a killed run,
independent knowledge bases. Small corpora written per test; the real embedder."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from copilot.config import Settings
from copilot.retrieval import Retriever, ingest
from copilot.retrieval.embeddings import get_embedder
from copilot.retrieval.ingest import index_generation, source_key
from copilot.retrieval.vectorstore import collection_name, get_collection, make_client

PRODUCT = """---
id: product-qh-test-001
title: 青禾测试养老理财
type: product
product_code: qh-test-001
risk_level: R2
segments: [pension]
version: "2026.1"
effective_date: 2026-01-01
expiry_date: 2099-12-31
---

# 青禾测试养老理财

## 产品概述

本产品为一年持有期养老理财，投资于存款、债券等固定收益类资产，净值随市场波动。

## 业绩比较基准

业绩比较基准为年化2.8%至3.6%，不代表产品未来表现，不构成收益承诺。

## 适合人群

适合风险承受能力为稳健型及以上、有养老规划需求的客户。
"""

EDUCATION = """---
id: edu-test-deposit-insurance
title: 存款保险小知识
type: education
---

# 存款保险小知识

存款保险对同一存款人在同一家投保机构的存款本金和利息合并计算，最高偿付限额为人民币50万元。
"""

SCRIPT_TXT = "信用卡周五影票日话术：本周五起，持青禾信用卡在合作影院购票可享半价优惠，数量有限。\n"


def make_kb(root: Path) -> Path:
    kb = root / "knowledge"
    (kb / "products").mkdir(parents=True)
    (kb / "education").mkdir()
    (kb / "products" / "pension.md").write_text(PRODUCT, encoding="utf-8")
    (kb / "education" / "deposit.md").write_text(EDUCATION, encoding="utf-8")
    (kb / "script.txt").write_text(SCRIPT_TXT, encoding="utf-8")
    return kb


def settings_for(root: Path, **kw: Any) -> Settings:
    return Settings(content_root=root, data_dir=root / "data", **kw)


def collection(settings: Settings) -> Any:
    return get_collection(make_client(settings), collection_name(settings, get_embedder(settings).name))


def index_rows(settings: Settings) -> list[tuple[str, str, dict[str, Any]]]:
    got = collection(settings).get(include=["documents", "metadatas"])
    return list(zip(got["ids"], got["documents"], got["metadatas"], strict=True))


def assert_consistent(settings: Settings) -> Counter:
    """No duplicate chunk ids or texts; every file holds exactly its chunk_count chunks, one hash."""
    rows = index_rows(settings)
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids))
    per_file = Counter(r[2]["source_path"] for r in rows)
    for source, n in per_file.items():
        metas = [r[2] for r in rows if r[2]["source_path"] == source]
        texts = [r[1] for r in rows if r[2]["source_path"] == source]
        assert len(texts) == len(set(texts)), f"duplicate chunks in {source}"
        assert {m["chunk_count"] for m in metas} == {n}
        assert len({m["content_hash"] for m in metas}) == 1
        assert sorted(m["chunk_no"] for m in metas) == list(range(n))
    return per_file


def test_incremental_counts_across_runs(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    s = settings_for(tmp_path)

    first = ingest(None, s)
    assert (first.added, first.updated, first.removed, first.unchanged, first.failed) == (3, 0, 0, 0, [])
    per_file = assert_consistent(s)
    assert per_file == {
        "knowledge/products/pension.md": 3,
        "knowledge/education/deposit.md": 1,
        "knowledge/script.txt": 1,
    }
    assert first.chunks == 5
    assert "新增 3" in first.summary() and "失败 0" in first.summary()

    gen = index_generation()
    second = ingest(None, s)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert second.chunks == 0  # nothing re-embedded
    assert index_generation() == gen  # nothing written: retrievers need not reload

    (kb / "education" / "deposit.md").write_text(EDUCATION.replace("50万元", "五十万元"), encoding="utf-8")
    third = ingest(None, s)
    assert (third.added, third.updated, third.removed, third.unchanged) == (0, 1, 0, 2)
    assert third.chunks == 1
    assert index_generation() > gen
    texts = [r[1] for r in index_rows(s)]
    assert any("五十万元" in t for t in texts) and not any("50万元" in t for t in texts)

    (kb / "products" / "pension.md").unlink()
    fourth = ingest(None, s)
    assert (fourth.added, fourth.updated, fourth.removed, fourth.unchanged) == (0, 0, 1, 2)
    assert set(assert_consistent(s)) == {"knowledge/education/deposit.md", "knowledge/script.txt"}


def test_chunks_carry_document_metadata(tmp_path: Path) -> None:
    make_kb(tmp_path)
    s = settings_for(tmp_path)
    ingest(None, s)
    rows = [r for r in index_rows(s) if r[2]["source_path"] == "knowledge/products/pension.md"]
    by_heading = {m["heading"]: (text, m) for _, text, m in rows}
    assert set(by_heading) == {"产品概述", "业绩比较基准", "适合人群"}
    text, meta = by_heading["业绩比较基准"]
    assert "2.8%" in text
    assert meta["doc_id"] == "product-qh-test-001"
    assert meta["title"] == "青禾测试养老理财"
    assert meta["doc_type"] == "product"
    assert meta["product_code"] == "QH-TEST-001"  # upper-cased for filters
    assert meta["risk_level"] == "R2" and meta["version"] == "2026.1"
    assert meta["segments"] == "pension" and meta["seg_pension"] is True
    assert "seg_payroll" not in meta
    assert meta["effective_date"] == "2026-01-01" and meta["expiry"] == 20991231
    script = next(m for _, _, m in index_rows(s) if m["source_path"] == "knowledge/script.txt")
    assert script["expiry"] == 0 and script["doc_type"] == "other"
    assert set(script["segments"].split(",")) == {"credit_card", "payroll", "pension", "branch_nearby"}


def test_bad_files_fail_by_name_and_good_ones_are_indexed(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    bad = {
        "broken.md": "---\nid: x\ntitle: [oops\n---\n正文。\n".encode(),
        "risk.md": "---\nid: r\ntitle: 风险\nrisk_level: R9\n---\n正文。\n".encode(),
        "segment.md": "---\nid: s\ntitle: 客群\nsegments: [students]\n---\n正文。\n".encode(),
        "empty.md": b"",
        "binary.txt": b"\x00\x01\x02\x03" * 64,
        "garbled.txt": b"\xff\xfe\x80\x81" * 16,
    }
    for name, data in bad.items():
        (kb / name).write_bytes(data)
    s = settings_for(tmp_path)

    report = ingest(None, s)
    assert report.added == 3
    assert not report.ok
    failed = {Path(p).name: msg for p, msg in report.failed}
    assert set(failed) == set(bad)
    for name, msg in failed.items():
        assert name in msg  # the message names the file
    assert "[risk_level]" in failed["risk.md"] and "[segments]" in failed["segment.md"]
    assert "[front matter]" in failed["broken.md"]
    assert f"失败 {len(bad)}" in report.summary()
    assert set(assert_consistent(s)) == {
        "knowledge/products/pension.md", "knowledge/education/deposit.md", "knowledge/script.txt",
    }
    again = ingest(None, s)  # failures are reported again, the good files stay unchanged
    assert again.unchanged == 3 and len(again.failed) == len(bad)


def test_file_broken_after_indexing_keeps_its_last_good_chunks(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    s = settings_for(tmp_path)
    ingest(None, s)
    (kb / "education" / "deposit.md").write_text("---\nid: x\ntitle: [oops\n---\n", encoding="utf-8")
    report = ingest(None, s)
    assert [Path(p).name for p, _ in report.failed] == ["deposit.md"]
    assert report.removed == 0
    assert "knowledge/education/deposit.md" in assert_consistent(s)


def test_oversized_file_fails(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    (kb / "huge.md").write_text("# 很长的文件\n\n" + "超长内容。" * 200, encoding="utf-8")
    s = settings_for(tmp_path, max_file_bytes=2048)
    report = ingest(None, s)
    assert report.added == 3
    assert len(report.failed) == 1
    path, msg = report.failed[0]
    assert Path(path).name == "huge.md" and "huge.md" in msg and "文件过大" in msg and "2048" in msg
    assert "knowledge/huge.md" not in assert_consistent(s)


def test_missing_path_is_reported(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    s = settings_for(tmp_path)
    report = ingest([kb, tmp_path / "nowhere"], s)
    assert report.added == 3
    assert [Path(p).name for p, _ in report.failed] == ["nowhere"]
    assert "不存在" in report.failed[0][1]


@pytest.mark.parametrize("damage", ["lost_chunks", "stale_extra_chunk"])
def test_index_left_by_a_killed_run_is_repaired(tmp_path: Path, damage: str) -> None:
    make_kb(tmp_path)
    s = settings_for(tmp_path)
    ingest(None, s)
    col = collection(s)
    rows = [r for r in index_rows(s) if r[2]["source_path"] == "knowledge/products/pension.md"]
    assert len(rows) == 3
    if damage == "lost_chunks":  # the run died after writing the first batch of a file
        col.delete(ids=[r[0] for r in rows[1:]])
    else:  # a chunk of an older version survived (the run died between delete and upsert)
        cid, text, meta = rows[0]
        vec = get_embedder(s).embed_passages([text])[0].tolist()
        col.upsert(ids=[cid.rsplit(":", 1)[0] + ":7"], embeddings=[vec], documents=[text + "（旧版）"],
                   metadatas=[{**meta, "content_hash": "old", "chunk_no": 7}])
    with pytest.raises(AssertionError):
        assert_consistent(s)

    report = ingest(None, s)
    assert (report.updated, report.unchanged, report.added) == (1, 2, 0)
    assert report.chunks == 3
    assert assert_consistent(s)["knowledge/products/pension.md"] == 3
    assert ingest(None, s).unchanged == 3


def test_second_knowledge_base_is_independent(tmp_path: Path) -> None:
    a_root, b_root = tmp_path / "a", tmp_path / "b"
    make_kb(a_root)
    b_kb = b_root / "elsewhere"
    b_kb.mkdir(parents=True)
    only_b = "# 代发工资服务\n\n代发工资客户可享跨行转账免费等权益。\n"
    (b_kb / "only-b.md").write_text(only_b, encoding="utf-8")
    sa = settings_for(a_root)
    sb = Settings(content_root=a_root, data_dir=b_root / "data")  # same content root, own data dir

    assert ingest(None, sa).added == 3
    rb = ingest([b_kb], sb)
    assert rb.added == 1 and rb.ok
    b_rows = index_rows(sb)
    assert [m["source_path"] for _, _, m in b_rows] == [source_key(b_kb / "only-b.md", sb)]
    assert Path(b_rows[0][2]["source_path"]).is_absolute()  # outside the content root: absolute key
    assert len(index_rows(sa)) == 5
    assert ingest(None, sa).unchanged == 3  # B's run did not touch A

    hits_b = Retriever(sb).search("代发工资有什么权益", k=5)
    assert {h.title for h in hits_b} == {"代发工资服务"}
    hits_a = Retriever(sa).search("代发工资有什么权益", k=5)
    assert "代发工资服务" not in {h.title for h in hits_a}


def test_ingesting_one_folder_leaves_other_folders_alone(tmp_path: Path) -> None:
    kb = make_kb(tmp_path)
    s = settings_for(tmp_path)
    ingest([kb / "products"], s)
    ingest([kb / "education"], s)
    report = ingest([kb / "products"], s)
    assert (report.unchanged, report.removed) == (1, 0)
    assert set(assert_consistent(s)) == {"knowledge/products/pension.md", "knowledge/education/deposit.md"}
    (kb / "products" / "pension.md").unlink()
    report = ingest([kb / "products"], s)
    assert report.removed == 1
    assert set(assert_consistent(s)) == {"knowledge/education/deposit.md"}


def test_pdf_and_docx_are_ingested(tmp_path: Path) -> None:
    import docx
    from fpdf import FPDF

    kb = tmp_path / "knowledge"
    kb.mkdir()
    d = docx.Document()
    d.add_heading("个人养老金说明", level=1)
    d.add_heading("缴费", level=2)
    d.add_paragraph("个人养老金每年缴费上限为12000元。")
    d.save(str(kb / "pension.docx"))
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Product sheet QH-TEST-PDF risk level R3")
    pdf.output(str(kb / "sheet.pdf"))

    s = settings_for(tmp_path)
    report = ingest(None, s)
    assert report.added == 2 and report.ok
    rows = {m["source_path"]: (text, m) for _, text, m in index_rows(s)}
    text, meta = rows["knowledge/pension.docx"]
    assert "12000元" in text and meta["heading"] == "缴费" and meta["title"] == "个人养老金说明"
    assert "QH-TEST-PDF" in rows["knowledge/sheet.pdf"][0]


def test_entries_from_an_older_chunker_are_rebuilt(tmp_path: Path) -> None:
    from copilot.retrieval.chunking import CHUNKER_VERSION

    make_kb(tmp_path)
    s = settings_for(tmp_path)
    ingest(None, s)
    rows = [r for r in index_rows(s) if r[2]["source_path"] == "knowledge/script.txt"]
    assert {r[2]["chunker"] for r in rows} == {CHUNKER_VERSION}
    old = [{k: v for k, v in r[2].items() if k != "chunker"} for r in rows]  # as an older ingest wrote it
    col = collection(s)
    col.delete(ids=[r[0] for r in rows])
    col.add(ids=[r[0] for r in rows], documents=[r[1] for r in rows], metadatas=old,
            embeddings=get_embedder(s).embed_passages([r[1] for r in rows]).tolist())
    report = ingest(None, s)
    assert (report.updated, report.unchanged) == (1, 2)
    assert {r[2]["chunker"] for r in index_rows(s)} == {CHUNKER_VERSION}
