"""Retrieval suite: does the right passage come back for a question?

Two question sets, both through the real ``ingest``/``Retriever`` path:

- **clauses**: the Fin-Eva insurance-clause set (317 clauses, one question each) from
  ``shared/data/fin-eva/derived``, indexed into a data dir of its own under ``<data_dir>/eval``.
  The folder is keyed by the corpus hash, so repeated runs reuse the embeddings.
- **kb**: questions about our own knowledge base (``eval/retrieval/kb_questions.jsonl``), against
  an index of ``knowledge/`` that the context keeps up to date.

Metrics per set: R@1, R@5, MRR, nDCG@10 (documents, not chunks: several chunks of one document
count once).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.config import Settings
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.golden import read_jsonl
from copilot.evaluation.metrics import RankingRun, dedupe, ranking_metrics, recall_curve
from copilot.evaluation.report import CaseFailure, Chart, SuiteResult
from copilot.evaluation.runner import EvalContext
from copilot.knowledge import KnowledgeError, iter_knowledge_files, read_document

FIN_EVA = Path("fin-eva") / "derived"
CORPUS_FILE = "insurance_clause_corpus.jsonl"
QUERIES_FILE = "insurance_clause_queries.jsonl"
FIN_EVA_CREDIT = "Fin-Eva, Ant Group, CC BY 4.0"
# Bump when the way clauses are written to files changes: the cache key must change with it.
CLAUSE_FORMAT = "2"
SEARCH_DEPTH = 30  # chunks fetched per question; documents are de-duplicated from these
CURVE_K = 10


class Clause(BaseModel):
    doc_id: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ClauseQuery(BaseModel):
    qid: str
    question: str = Field(min_length=1)
    gold_doc_id: str = Field(min_length=1)


class KBQuestion(BaseModel):
    question: str = Field(min_length=1)
    segment: str | None = None
    expected_doc_ids: list[str] = Field(min_length=1)


# --- the clause index -----------------------------------------------------------------------------
def corpus_key(corpus_path: Path) -> str:
    digest = hashlib.sha256(CLAUSE_FORMAT.encode() + corpus_path.read_bytes()).hexdigest()
    return digest[:16]


def clause_markdown(clause: Clause) -> str:
    """A clause as a knowledge file: the first line (its number and name) becomes the title."""
    first = next((ln.strip() for ln in clause.text.splitlines() if ln.strip()), clause.doc_id)
    meta = {"id": clause.doc_id, "title": first[:40], "type": "other", "source": FIN_EVA_CREDIT}
    head = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items())
    return f"---\n{head}\n---\n{clause.text}\n"


def clause_index(ctx: EvalContext, clauses: list[Clause], key: str) -> Settings:
    """Settings for an index of the clauses, built once per corpus hash and reused after."""
    from copilot.retrieval import ingest

    ctx.status(f"索引 Fin-Eva 条款（{len(clauses)} 条，首次约需数分钟，之后复用缓存）…")
    root = ctx.eval_data_dir(f"fin-eva-{key}")
    corpus = root / "corpus"
    corpus.mkdir(exist_ok=True)
    for clause in clauses:
        f = corpus / f"{clause.doc_id}.md"
        text = clause_markdown(clause)
        if not f.is_file() or f.read_text(encoding="utf-8") != text:
            f.write_text(text, encoding="utf-8")
    # The folder is its own content root so the index keys files relative to it (a copied cache
    # stays valid), and its own collection: with a Chroma server the data dir would not keep it apart.
    settings = ctx.settings.model_copy(
        update={"content_root": root, "data_dir": root / "data", "collection": f"evalclause{key[:8]}"}
    )
    report = ingest(paths=[corpus], settings=settings, progress=False)
    if report.failed:
        raise EvalInputError(f"Fin-Eva 条款入库失败: {report.failed[0][1]}")
    return settings


def knowledge_segments(knowledge_dir: Path) -> dict[str, set[str]]:
    """doc id -> the segments it serves, for every readable knowledge file."""
    docs: dict[str, set[str]] = {}
    for f in iter_knowledge_files([knowledge_dir]):
        try:
            meta = read_document(f).meta
        except KnowledgeError:
            continue
        docs[meta.id] = set(meta.segments)
    return docs


def validate_kb_questions(path: Path, questions: list[KBQuestion], docs: dict[str, set[str]]) -> None:
    """Every expected document exists, and the question's segment filter can reach one of them."""
    for n, q in enumerate(questions, start=1):
        missing = [d for d in q.expected_doc_ids if d not in docs]
        if missing:
            raise EvalInputError(f"{path} 第 {n} 条: 知识库中没有文档 {missing}")
        if q.segment and not any(q.segment in docs[d] for d in q.expected_doc_ids):
            raise EvalInputError(f"{path} 第 {n} 条: 期望的文档都不属于客群 {q.segment}，检索时会被过滤掉")


def any_of(ranked: list[str], acceptable: set[str]) -> RankingRun:
    """A kb question is answered by any one of its expected documents: fold them into one id so
    R@k means "an acceptable document within the first k" and MRR/nDCG use the first one found."""
    folded = dedupe("<expected>" if d in acceptable else d for d in ranked)
    return RankingRun(folded, {"<expected>"})


# --- the suite ------------------------------------------------------------------------------------
def _ranked(retriever: object, question: str, segment: str | None = None) -> list[str]:
    hits = retriever.search(question, k=SEARCH_DEPTH, segment=segment)  # type: ignore[attr-defined]
    return dedupe(h.doc_id for h in hits)


def run(ctx: EvalContext) -> SuiteResult:
    from copilot.retrieval import Retriever

    base = ctx.shared_data_dir / FIN_EVA
    clauses = read_jsonl(base / CORPUS_FILE, Clause)
    queries = read_jsonl(base / QUERIES_FILE, ClauseQuery)
    clause_ids = {c.doc_id for c in clauses}
    orphans = [q.qid for q in queries if q.gold_doc_id not in clause_ids]
    if orphans:
        raise EvalInputError(f"{base / QUERIES_FILE}: 问题 {orphans[:5]} 的 gold_doc_id 不在条款集中")

    kb_path = ctx.settings.eval_dir / "retrieval" / "kb_questions.jsonl"
    kb_questions = read_jsonl(kb_path, KBQuestion)
    validate_kb_questions(kb_path, kb_questions, knowledge_segments(ctx.settings.knowledge_dir))

    clause_settings = clause_index(ctx, clauses, corpus_key(base / CORPUS_FILE))
    clause_retriever = Retriever(clause_settings, mode=ctx.ranking)
    kb_retriever = Retriever(ctx.kb_settings(), mode=ctx.ranking)

    todo: list[tuple[str, str, str, str | None, set[str]]] = [
        ("clauses", q.qid, q.question, None, {q.gold_doc_id}) for q in ctx.limited(queries)
    ] + [
        ("kb", f"kb-{n}", q.question, q.segment, set(q.expected_doc_ids))
        for n, q in enumerate(ctx.limited(kb_questions), start=1)
    ]
    runs: dict[str, list[RankingRun]] = {"clauses": [], "kb": []}
    result = SuiteResult(suite="retrieval")
    for name, qid, question, segment, relevant in ctx.track(todo):
        retriever = clause_retriever if name == "clauses" else kb_retriever
        ranked = _ranked(retriever, question, segment)
        runs[name].append(RankingRun(ranked, relevant) if name == "clauses" else any_of(ranked, relevant))
        if not relevant & set(ranked[:5]):
            result.failures.append(
                CaseFailure(
                    id=f"{name}:{qid}",
                    reason=f"前 5 名没有 {sorted(relevant)}: {question}",
                    detail={"question": question, "segment": segment, "top5": ranked[:5]},
                )
            )

    for name, set_runs in runs.items():
        for metric, value in ranking_metrics(set_runs).items():
            result.metrics[f"{name}.{metric}"] = round(value, 4)
        result.counts[f"{name}_questions"] = len(set_runs)
    result.counts["clauses_corpus"] = len(clauses)
    result.charts.append(
        Chart(
            kind="line",
            title=f"检索召回率 (recall@k，排序: {ctx.ranking})",
            labels=[str(k) for k in range(1, CURVE_K + 1)],
            series={
                "Fin-Eva 保险条款": [round(v, 4) for v in recall_curve(runs["clauses"], CURVE_K)],
                "本行知识库": [round(v, 4) for v in recall_curve(runs["kb"], CURVE_K)],
            },
            x_label="k",
        )
    )
    result.notes.append(f"Fin-Eva 条款与问题: {FIN_EVA_CREDIT}")
    return result
