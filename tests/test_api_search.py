"""GET /v1/search and GET /v1/passages/{chunk_id} against the real index of knowledge/."""

from __future__ import annotations

from api_support import *  # noqa: F403
from api_support import Api, error_of, make_api


def test_search_returns_ranked_passages_with_provenance(api: Api) -> None:
    resp = api.get("/v1/search", params={"q": "老人适合买什么理财", "segment": "pension", "k": 5})
    assert resp.status_code == 200
    body = resp.json()
    hits = body["hits"]
    assert body["query"] == "老人适合买什么理财" and 1 <= len(hits) <= 5
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    for h in hits:
        assert h["doc_id"] and h["title"] and h["source_path"].startswith("knowledge/")
        assert "pension" in h["segments"]


def test_search_filters_by_type_and_product(api: Api) -> None:
    hits = api.get("/v1/search", params={"q": "定期存款利率", "type": "product", "k": 8}).json()["hits"]
    assert hits and all(h["doc_type"] == "product" for h in hits)
    hits = api.get("/v1/search", params={"q": "起购金额", "product": "QH-DEP-002"}).json()["hits"]
    assert hits and {h["product_code"] for h in hits} == {"QH-DEP-002"}


def test_a_citation_chip_opens_its_passage(api: Api) -> None:
    hit = api.get("/v1/search", params={"q": "大额存单"}).json()["hits"][0]
    passage = api.get(f"/v1/passages/{hit['chunk_id']}").json()
    assert passage["text"] == hit["text"] and passage["doc_id"] == hit["doc_id"]
    resp = api.get("/v1/passages/no-such-chunk")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"


def test_bad_search_input(api: Api) -> None:
    assert api.get("/v1/search", params={"q": ""}).status_code == 422
    resp = api.get("/v1/search", params={"q": "养老", "segment": "vip"})
    assert resp.status_code == 422 and error_of(resp)["detail"][0]["field"] == "segment"
    assert api.get("/v1/search", params={"q": "养老", "k": 0}).status_code == 422


def test_an_empty_index_is_a_503_that_says_what_to_run(api_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = api_settings.model_copy(update={"data_dir": tmp_path / "empty"})
    with make_api(empty) as api:
        resp = api.get("/v1/search", params={"q": "养老"})
        assert resp.status_code == 503
        err = error_of(resp)
        assert err["code"] == "index_empty" and "copilot ingest" in err["message"]
        assert resp.headers["retry-after"]
