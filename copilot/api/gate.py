"""Bounded concurrency in front of the model writers.

The local model answers one request at a time on two cores (``n_parallel=1``), so many RMs asking
at once must queue, not pile threads onto the CPU. ``ModelGate`` admits ``concurrency`` requests,
lets up to ``queue_size`` more wait their turn, and turns anything beyond that into a 503 with a
Retry-After hint. One RM may hold only ``per_user`` places, so a single impatient client cannot
fill the queue for everyone (429).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from copilot.api.errors import ApiError


class ModelGate:
    def __init__(
        self,
        concurrency: int = 1,
        queue_size: int = 8,
        per_user: int = 2,
        retry_after_s: int = 10,
        max_wait_s: float = 300.0,
    ):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.queue_size = max(0, queue_size)
        self.per_user = max(1, per_user)
        self.retry_after_s = retry_after_s
        self.max_wait_s = max_wait_s
        self._sem = asyncio.Semaphore(concurrency)
        self.active = 0
        self.waiting = 0
        self._by_user: Counter[str] = Counter()

    def stats(self) -> dict[str, int]:
        return {
            "active": self.active,
            "waiting": self.waiting,
            "concurrency": self.concurrency,
            "queue_size": self.queue_size,
        }

    def _overloaded(self) -> ApiError:
        return ApiError(
            503,
            "model_busy",
            f"当前使用人数较多，模型排队已满，请约 {self.retry_after_s} 秒后重试；"
            "紧急时可先使用知识检索或经审批话术。",
            {"retry_after_s": self.retry_after_s, **self.stats()},
            headers={"Retry-After": str(self.retry_after_s)},
        )

    async def acquire(self, user: str) -> None:
        """Take a place or raise 503/429 at once; waiting happens only inside the queue bound."""
        if self._by_user[user] >= self.per_user:
            raise ApiError(
                429,
                "too_many_requests",
                "您已有请求在处理中，请等待上一条回复生成完成后再试。",
                {"in_flight": self._by_user[user], "limit": self.per_user},
                headers={"Retry-After": str(self.retry_after_s)},
            )
        must_wait = self.active >= self.concurrency or self.waiting > 0
        if must_wait and self.waiting >= self.queue_size:
            raise self._overloaded()
        self._by_user[user] += 1
        self.waiting += 1
        try:
            # asyncio.timeout (not wait_for): on 3.11 wait_for can lose a semaphore on cancellation.
            async with asyncio.timeout(self.max_wait_s):
                await self._sem.acquire()
        except TimeoutError:
            self._by_user[user] -= 1
            raise self._overloaded() from None
        except BaseException:
            self._by_user[user] -= 1
            raise
        finally:
            self.waiting -= 1
        self.active += 1

    def release(self, user: str) -> None:
        self.active -= 1
        self._by_user[user] -= 1
        if self._by_user[user] <= 0:
            del self._by_user[user]
        self._sem.release()

    @contextlib.asynccontextmanager
    async def slot(self, user: str) -> AsyncIterator[None]:
        await self.acquire(user)
        try:
            yield
        finally:
            self.release(user)
