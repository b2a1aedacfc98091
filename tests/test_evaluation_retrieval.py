"""Retrieval suite through the real ingest/Retriever path: a small slice of the Fin-Eva clause set
(the full set runs in test_evaluation_commands.py) and the real knowledge-base questions."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import MINI_CLAUSES as N_CLAUSES

from copilot.config import CHECKOUT, Settings
from copilot.evaluation import retrieval
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.golden import read_jsonl
from copilot.evaluation.runner import EvalContext, run_suite
from copilot.evaluation.thresholds import load_thresholds


def _ctx(tmp_path, mini_shared, kb_settings, **kw) -> EvalContext:
    return EvalContext(
        settings=Settings(data_dir=tmp_path / "data"),
        shared_data=mini_shared,
        kb_data_dir=kb_settings.data_dir,
        **kw,
    )


def test_suite_scores_both_sets(tmp_path, mini_shared, kb_settings):
    from copilot.retrieval import ingest

    ctx = _ctx(tmp_path, mini_shared, kb_settings)
    thresholds = load_thresholds(CHECKOUT / "eval" / "thresholds.yaml")
    result = run_suite("retrieval", ctx, thresholds)
    assert not result.error, result.error
    kb_checks = [c for c in result.checks if c.metric.startswith("kb.")]
    assert len(kb_checks) == 4 and all(c.ok for c in kb_checks), kb_checks
    assert result.counts["clauses_questions"] == N_CLAUSES
    assert result.counts["kb_questions"] >= 40
    assert result.metrics["clauses.r@5"] >= 0.9  # twelve clauses: the right one is near the top
    (chart,) = result.charts
    assert all(len(v) == 10 for v in chart.series.values())
    assert all(b >= a for v in chart.series.values() for a, b in itertools.pairwise(v))

    # the clause index is cached by corpus hash: a second pass embeds nothing
    clauses = read_jsonl(mini_shared / retrieval.FIN_EVA / retrieval.CORPUS_FILE, retrieval.Clause)
    key = retrieval.corpus_key(mini_shared / retrieval.FIN_EVA / retrieval.CORPUS_FILE)
    settings = retrieval.clause_index(ctx, clauses, key)
    again = ingest(paths=[settings.content_root / "corpus"], settings=settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, N_CLAUSES)


def test_random_ranking_fails_the_thresholds(tmp_path, mini_shared, kb_settings):
    ctx = _ctx(tmp_path, mini_shared, kb_settings, ranking="random")
    result = run_suite("retrieval", ctx, load_thresholds(CHECKOUT / "eval" / "thresholds.yaml"))
    assert result.status == "regression"
    failed = {c.metric for c in result.checks if not c.ok}
    assert {"kb.r@1", "kb.mrr"} <= failed


def test_corpus_key_follows_content(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text('{"doc_id": "c-1", "text": "条款"}\n', encoding="utf-8")
    key = retrieval.corpus_key(a)
    a.write_text('{"doc_id": "c-1", "text": "条款改了"}\n', encoding="utf-8")
    assert retrieval.corpus_key(a) != key


def test_clause_file_reads_back_as_a_knowledge_document(tmp_path):
    from copilot.knowledge import read_document

    f = tmp_path / "clause-9.md"
    f.write_text(
        retrieval.clause_markdown(retrieval.Clause(doc_id="clause-9", text="12-深度昏迷\n指因疾病……"))
    )
    doc = read_document(f)
    assert doc.meta.id == "clause-9" and doc.meta.title == "12-深度昏迷"
    assert doc.body.strip().startswith("12-深度昏迷")


def test_missing_shared_data_says_where_to_point(tmp_path):
    ctx = EvalContext(settings=Settings(data_dir=tmp_path), shared_data=tmp_path / "nowhere")
    with pytest.raises(EvalInputError, match="--shared-data"):
        _ = ctx.shared_data_dir


def test_kb_questions_are_validated_against_the_knowledge_base(tmp_path):
    docs = {"edu-a": {"pension"}, "edu-b": {"payroll"}}
    path = tmp_path / "q.jsonl"
    ok = [retrieval.KBQuestion(question="问", segment="pension", expected_doc_ids=["edu-a", "edu-b"])]
    retrieval.validate_kb_questions(path, ok, docs)
    with pytest.raises(EvalInputError, match="没有文档"):
        retrieval.validate_kb_questions(
            path, [retrieval.KBQuestion(question="问", expected_doc_ids=["x"])], docs
        )
    unreachable = [retrieval.KBQuestion(question="问", segment="credit_card", expected_doc_ids=["edu-a"])]
    with pytest.raises(EvalInputError, match="客群"):
        retrieval.validate_kb_questions(path, unreachable, docs)


def test_repo_kb_questions_are_valid():
    path = CHECKOUT / "eval" / "retrieval" / "kb_questions.jsonl"
    questions = read_jsonl(path, retrieval.KBQuestion)
    assert len(questions) >= 40
    retrieval.validate_kb_questions(path, questions, retrieval.knowledge_segments(CHECKOUT / "knowledge"))
    assert len({q.question for q in questions}) == len(questions)


def test_any_expected_document_counts_once():
    run = retrieval.any_of(["x", "b", "a", "y"], {"a", "b"})
    assert run.ranked == ["x", "<expected>", "y"] and run.relevant == {"<expected>"}


def test_bad_jsonl_line_is_named(tmp_path):
    p = tmp_path / "q.jsonl"
    p.write_text(json.dumps({"question": "好"}) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="第 1 行"):
        read_jsonl(p, retrieval.KBQuestion)
    p.write_text(json.dumps({"question": "好", "expected_doc_ids": ["a"]}) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="第 2 行"):
        read_jsonl(p, retrieval.KBQuestion)
