"""Bounded concurrency in front of the model writers.

The local model answers one request at a time on two cores (``n_parallel=1``), so many RMs asking
at once must queue, not pile threads onto the CPU. ``ModelGate`` admits ``concurrency`` requests,
lets up to ``queue_size`` more wait their turn, and turns anything beyond that into a 503 with a
Retry-After hint. One RM may hold only ``per_user`` places, so a single impatient client cannot
fill the queue for everyone (429).

Taking a place has two steps so a streaming route can refuse *before* its response starts
(``enter``: raises 503/429 at once) and then wait its turn *inside* the stream, telling the RM
their place in the queue (``wait``). ``leave`` is idempotent, so both the stream and a request
clean-up hook may call it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from copilot.api.errors import ApiError


@dataclass
class Ticket:
    id: int
    user: str
    state: str = "waiting"  # waiting | active | left


class ModelGate:
    def __init__(
        self,
        concurrency: int = 1,
        queue_size: int = 8,
        per_user: int = 2,
        retry_after_s: int = 15,
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
        self._ids = itertools.count(1)
        self._waiting: list[Ticket] = []
        self.active = 0
        self._by_user: Counter[str] = Counter()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def stats(self) -> dict[str, int]:
        return {
            "active": self.active,
            "waiting": self.waiting,
            "concurrency": self.concurrency,
            "queue_size": self.queue_size,
        }

    def position(self, ticket: Ticket) -> int:
        """How many queued requests are ahead of this one (0 = next in line, or running)."""
        try:
            return self._waiting.index(ticket)
        except ValueError:
            return 0

    def must_wait(self, ticket: Ticket) -> bool:
        return ticket.state == "waiting" and (self.active >= self.concurrency or self.position(ticket) > 0)

    def overloaded_error(self) -> ApiError:
        return ApiError(
            503,
            "model_busy",
            f"当前使用人数较多，排队已满。请约 {self.retry_after_s} 秒后重试；"
            "着急时可先在“知识检索”中查找经审批的话术。",
            {"retry_after_s": self.retry_after_s, **self.stats()},
            headers={"Retry-After": str(self.retry_after_s)},
        )

    def enter(self, user: str) -> Ticket:
        """Join the queue or raise at once: 429 for a user already at their limit, 503 when full."""
        if self._by_user[user] >= self.per_user:
            raise ApiError(
                429,
                "too_many_requests",
                "您已有请求在处理中，请等上一条回复生成完成后再试。",
                {"in_flight": self._by_user[user], "limit": self.per_user},
                headers={"Retry-After": str(self.retry_after_s)},
            )
        busy = self.active >= self.concurrency or self._waiting
        if busy and len(self._waiting) >= self.queue_size:
            raise self.overloaded_error()
        ticket = Ticket(next(self._ids), user)
        self._by_user[user] += 1
        self._waiting.append(ticket)
        return ticket

    async def wait(self, ticket: Ticket) -> None:
        """Wait for this ticket's turn (FIFO: the semaphore wakes waiters in order)."""
        if ticket.state != "waiting":
            return
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a semaphore on cancellation.
            async with asyncio.timeout(self.max_wait_s):
                await self._sem.acquire()
        except TimeoutError:
            self.leave(ticket)
            raise self.overloaded_error() from None
        except BaseException:
            self.leave(ticket)
            raise
        if ticket.state != "waiting":  # left while waiting (clean-up raced us): give the place back
            self._sem.release()
            return
        self._waiting.remove(ticket)
        ticket.state = "active"
        self.active += 1

    def leave(self, ticket: Ticket) -> None:
        if ticket.state == "left":
            return
        if ticket.state == "active":
            self.active -= 1
            self._sem.release()
        else:
            with contextlib.suppress(ValueError):
                self._waiting.remove(ticket)
        ticket.state = "left"
        self._by_user[ticket.user] -= 1
        if self._by_user[ticket.user] <= 0:
            del self._by_user[ticket.user]

    @contextlib.asynccontextmanager
    async def slot(self, user: str) -> AsyncIterator[Ticket]:
        """A place for work that runs a model: admitted, queued, or refused (503/429)."""
        ticket = self.enter(user)
        try:
            await self.wait(ticket)
            yield ticket
        finally:
            self.leave(ticket)


def model_place(gate: ModelGate, user: str, needed: bool) -> contextlib.AbstractAsyncContextManager[Ticket | None]:
    """A gate place when the work runs a model; none for work that does not (template drafts),
    so it never waits behind a model draft."""
    return gate.slot(user) if needed else contextlib.nullcontext()
