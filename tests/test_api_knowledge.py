"""Knowledge over HTTP: the paginated document list, uploads (compliance/admin only, validated,
size-limited, then searchable), and reindexing."""

from __future__ import annotations

from pathlib import Path

from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api

from copilot.config import CHECKOUT
from copilot.knowledge import iter_knowledge_files

NEW_DOC = """---
id: QH-TEST-UPLOAD-001
title: 青禾银行 网点适老化服务说明（测试上传）
type: education
segments: [pension]
version: "2026.1"
sample: true
---

# 网点适老化服务说明

青禾银行城南支行设有爱心窗口，提供老花镜、放大镜和轮椅，六十五岁以上客户可优先办理。
"""


def test_list_is_paginated_and_filtered(api: Api) -> None:
    on_disk = sum(1 for _ in iter_knowledge_files([CHECKOUT / "knowledge"]))
    first = api.get("/v1/knowledge", params={"limit": 5, "offset": 0}).json()
    assert first["total"] >= on_disk - len(first.get("errors", [])) > 0
    assert (first["limit"], first["offset"], len(first["items"])) == (5, 0, 5)
    second = api.get("/v1/knowledge", params={"limit": 5, "offset": 5}).json()
    assert {d["doc_id"] for d in first["items"]}.isdisjoint({d["doc_id"] for d in second["items"]})
    everything = api.get("/v1/knowledge", params={"limit": 200}).json()
    assert len(everything["items"]) == everything["total"] == first["total"]

    products = api.get("/v1/knowledge", params={"type": "product", "limit": 200}).json()["items"]
    codes = {d["product_code"] for d in products}
    assert {"QH-DEP-001", "QH-WM-R1-001"} <= codes and all(d["type"] == "product" for d in products)
    current = api.get(
        "/v1/knowledge", params={"type": "product", "limit": 200, "include_expired": False}
    ).json()
    assert all(not d["expired"] for d in current["items"])
    found = api.get("/v1/knowledge", params={"q": "qh-dep-002"}).json()["items"]
    assert found and {d["product_code"] for d in found} == {"QH-DEP-002"}
    assert [d["type"] for d in found].count("product") == 1


def test_an_upload_is_validated_stored_indexed_and_searchable(content_copy) -> None:  # type: ignore[no-untyped-def]
    with make_api(content_copy) as api:
        resp = api.post(
            "/v1/knowledge",
            as_user="comp1",
            files={"file": ("适老化服务.md", NEW_DOC.encode(), "text/markdown")},
        )
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["document"]["doc_id"] == "QH-TEST-UPLOAD-001"
        assert body["document"]["source_path"] == "uploads/适老化服务.md"
        assert body["ingest"]["added"] == 1 and body["ingest"]["failed"] == []
        assert (content_copy.data_dir / "uploads" / "适老化服务.md").read_text(encoding="utf-8") == NEW_DOC
        # no temp files left behind
        assert [p.name for p in (content_copy.data_dir / "uploads").iterdir()] == ["适老化服务.md"]

        hits = api.get("/v1/search", params={"q": "网点爱心窗口 老花镜 轮椅", "k": 3}).json()["hits"]
        assert hits[0]["doc_id"] == "QH-TEST-UPLOAD-001"
        listed = api.get("/v1/knowledge", params={"q": "QH-TEST-UPLOAD"}).json()["items"]
        assert [d["title"] for d in listed] == ["青禾银行 网点适老化服务说明（测试上传）"]

        # a full reindex keeps uploads (they live in the data directory, beside the index)
        again = api.post("/v1/knowledge/reindex", as_user="comp1").json()
        assert again["removed"] == 0 and again["failed"] == []
        hits = api.get("/v1/search", params={"q": "网点爱心窗口 老花镜 轮椅", "k": 3}).json()["hits"]
        assert hits[0]["doc_id"] == "QH-TEST-UPLOAD-001"
        assert not (content_copy.knowledge_dir / "uploads").exists()  # the content root is not written

        # the same name again with other content needs "overwrite"
        changed = NEW_DOC.replace("爱心窗口", "敬老窗口")
        resp = api.post(
            "/v1/knowledge", as_user="admin1", files={"file": ("适老化服务.md", changed.encode())}
        )
        assert resp.status_code == 422 and error_of(resp)["code"] == "file_exists"
        resp = api.post(
            "/v1/knowledge",
            as_user="admin1",
            files={"file": ("适老化服务.md", changed.encode())},
            data={"overwrite": "true"},
        )
        assert resp.status_code == 201 and resp.json()["ingest"]["updated"] == 1


def test_bad_uploads_are_refused_and_leave_nothing(content_copy) -> None:  # type: ignore[no-untyped-def]
    uploads = content_copy.data_dir / "uploads"
    with make_api(content_copy) as api:
        existing = api.get("/v1/knowledge", params={"limit": 1}).json()["items"][0]["doc_id"]
        cases = [
            (("evil.exe", b"MZ\x00\x00"), "unsupported_type"),
            (("../../escape.md", NEW_DOC.encode()), None),  # the path is dropped: stored as escape.md
            (("坏.md", b"---\nid: [unclosed\n---\n\nbody"), "invalid_document"),
            (("bad-segment.md", NEW_DOC.replace("[pension]", "[vip]").encode()), "invalid_document"),
            (("empty.md", b"   "), "invalid_document"),
            (("dup.md", NEW_DOC.replace("QH-TEST-UPLOAD-001", existing).encode()), "duplicate_id"),
        ]
        for (name, data), code in cases:
            resp = api.post("/v1/knowledge", as_user="comp1", files={"file": (name, data)})
            if code is None:
                stored = resp.json()["document"]["source_path"]
                assert resp.status_code == 201 and stored == "uploads/escape.md"
                continue
            assert resp.status_code == 422, (name, resp.text)
            err = error_of(resp)
            assert err["code"] == code, (name, err)
        assert sorted(p.name for p in uploads.iterdir()) == ["escape.md"]
        assert not (content_copy.content_root / "escape.md").exists()
        assert not (content_copy.data_dir / "escape.md").exists()
        resp = api.post(
            "/v1/knowledge",
            as_user="comp1",
            files={"file": ("bad-segment.md", NEW_DOC.replace("[pension]", "[vip]").encode())},
        )
        err = error_of(resp)
        assert "vip" in err["message"] and err["detail"]["field"] == "segments"


def test_upload_size_limit_is_413(content_copy) -> None:  # type: ignore[no-untyped-def]
    small = content_copy.model_copy(update={"max_upload_bytes": 2048})
    with make_api(small) as api:
        big = NEW_DOC + "适老服务。" * 2000
        resp = api.post("/v1/knowledge", as_user="comp1", files={"file": ("big.md", big.encode())})
        assert resp.status_code == 413 and error_of(resp)["code"] == "too_large"
        assert not (small.data_dir / "uploads" / "big.md").exists()


def test_reindex_reports_what_changed(content_copy) -> None:  # type: ignore[no-untyped-def]
    with make_api(content_copy) as api:
        target: Path = content_copy.knowledge_dir / "education" / "reindex-test.md"
        target.write_text(NEW_DOC.replace("QH-TEST-UPLOAD-001", "QH-TEST-REINDEX"), encoding="utf-8")
        body = api.post("/v1/knowledge/reindex", as_user="admin1").json()
        assert body["added"] == 1 and body["failed"] == [] and body["unchanged"] > 10
        again = api.post("/v1/knowledge/reindex", as_user="comp1").json()
        assert again["added"] == again["updated"] == again["removed"] == 0
