"""Run the evaluation suites, compare their metrics with the thresholds and build the report.

Each suite is a module ``copilot.evaluation.<suite>`` with ``run(ctx: EvalContext) -> SuiteResult``;
the runner imports it only when asked, so an unfinished part fails its own suite, not the others.
"""

from __future__ import annotations

import importlib
import logging
import random
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from rich.progress import Progress, TaskID

from copilot.config import Settings
from copilot.evaluation.errors import EvalInputError
from copilot.evaluation.report import Report, SuiteResult
from copilot.evaluation.thresholds import Thresholds, bounds_for, compare
from copilot.segments import segments_of

SUITES = ("retrieval", "compliance", "drafting", "schedule", "redteam")
Ranking = Literal["hybrid", "dense", "bm25", "random"]  # copilot.retrieval.Retriever modes
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class EvalContext:
    """Everything a suite needs: settings, options, and where the progress bar is."""

    settings: Settings
    writer: str = "template"
    limit: int | None = None
    ranking: Ranking = "hybrid"  # "random" is the deliberately broken ranker that proves the gate works
    judge: bool = False
    shared_data: Path | None = None
    kb_data_dir: Path | None = None
    seed: int = 7
    record_first_seen: bool = False  # write a blind batch's first run to its first_seen.yaml
    progress: Progress | None = None
    _task: TaskID | None = field(default=None, repr=False)
    _kb_settings: Settings | None = field(default=None, repr=False)
    _label: str = field(default="", repr=False)

    # --- locations -----------------------------------------------------------------------------
    @property
    def shared_data_dir(self) -> Path:
        """``../shared/data`` next to the content root unless given; missing is bad input, said clearly."""
        path = self.shared_data or (self.settings.content_root.resolve().parent / "shared" / "data")
        if not path.is_dir():
            raise EvalInputError(
                f"找不到共享数据目录 {path}（Fin-Eva 条款集）。请用 --shared-data 或环境变量 "
                "COPILOT_SHARED_DATA_DIR 指定 shared/data 的位置。"
            )
        return path

    def eval_data_dir(self, name: str) -> Path:
        """A folder under the data dir that the harness owns (indexes it builds and caches)."""
        path = self.settings.data_dir / "eval" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def kb_settings(self) -> Settings:
        """Settings whose data dir holds an up-to-date index of the content root's ``knowledge/``.

        Ingestion is incremental, so after the first run this only hashes the files. The index lives
        apart from the user's own (``<data_dir>/eval/kb``) so documents ingested from elsewhere
        cannot change the scores.
        """
        if self._kb_settings is None:
            from copilot.retrieval import ingest

            self.status("更新知识库评测索引…")
            if self.kb_data_dir:  # an index built elsewhere (tests, CI): only brought up to date
                kb = self.settings.model_copy(update={"data_dir": self.kb_data_dir})
            else:  # own collection too: with a Chroma server the data dir would not keep it apart
                kb = self.settings.model_copy(
                    update={"data_dir": self.eval_data_dir("kb"), "collection": "evalkb"}
                )
            report = ingest(paths=None, settings=kb, progress=False)
            if report.failed:
                problems = "；".join(f"{p}: {m}" for p, m in report.failed[:5])
                raise EvalInputError(f"知识库有 {len(report.failed)} 个文件无法入库: {problems}")
            self._kb_settings = kb
        return self._kb_settings

    # --- iteration -----------------------------------------------------------------------------
    def limited(self, items: Sequence[T]) -> list[T]:
        return list(items[: self.limit]) if self.limit else list(items)

    def rng(self, salt: str) -> random.Random:
        """A seeded generator per purpose, so runs are reproducible and purposes do not interfere."""
        return random.Random(f"{self.seed}:{salt}")

    def status(self, text: str) -> None:
        """Say what the current suite is doing before its items start (indexing can take minutes)."""
        if self.progress is not None and self._task is not None:
            self.progress.update(self._task, description=text)

    def track(self, items: Iterable[T], total: int | None = None) -> Iterator[T]:
        """Yield items while advancing the current suite's progress bar."""
        items = list(items) if total is None else items
        if self.progress is not None and self._task is not None:
            n = total if total is not None else len(items)  # type: ignore[arg-type]
            self.progress.update(self._task, total=n, completed=0, description=self._label)
            for item in items:
                yield item
                self.progress.advance(self._task)
        else:
            yield from items


def run_suite(name: str, ctx: EvalContext, thresholds: Thresholds) -> SuiteResult:
    """Run one suite; an input problem or crash becomes the suite's error instead of ending the run."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"copilot.evaluation.{name}")
        with segments_of(ctx.settings):  # eval sets name segments of the evaluated content root
            result: SuiteResult = module.run(ctx)
    except EvalInputError as exc:
        result = SuiteResult(suite=name, error=str(exc), bad_input=True)
    except Exception as exc:
        log.exception("suite %s crashed", name)
        tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        result = SuiteResult(suite=name, error=f"运行出错: {tail}")
    result.suite = name
    if not result.error:
        result.checks = compare(result.metrics, bounds_for(thresholds, name, ctx.writer))
    result.duration_s = round(time.perf_counter() - started, 2)
    return result


def run_suites(
    names: Sequence[str], ctx: EvalContext, thresholds: Thresholds, config: dict | None = None
) -> Report:
    """Run the named suites in order under one progress display and collect the report."""
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise EvalInputError(f"未知评测套件 {unknown}，可选: {list(SUITES)}")
    report = Report(config=dict(config or {}))
    for name in names:
        if ctx.progress is not None:
            ctx._label = f"评测 {name}"
            ctx._task = ctx.progress.add_task(ctx._label, total=None)
        result = run_suite(name, ctx, thresholds)
        if ctx.progress is not None and ctx._task is not None:
            ctx.progress.update(ctx._task, description=f"评测 {name}: {result.status}")
            ctx.progress.stop_task(ctx._task)
        report.suites.append(result)
    return report
