"""Group commit: write the submissions that arrive together in one transaction.

A live round takes thousands of one-council proposals per iteration. Each in its own
transaction would cost a commit (an fsync on SQLite, a round trip on PostgreSQL) and the
audit chain's head lock per proposal. :class:`GroupCommit` queues the submissions that
arrive while a transaction runs and hands them all to the next one
(:func:`commonplan.services.participation.submit_many`), which checks each on its own: every
request still gets its own answer, and is answered only after its transaction committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import anyio


class GroupCommit:
    """Queue items and pass them, in batches of at most ``max_items`` (counted by ``size``),
    to ``write(items) -> results`` under ``limiter``: in a worker thread, or on the event loop
    itself for a batch of at most ``inline_items`` (SQLite, where a small write takes
    milliseconds and handing it to a thread costs more than it does)."""

    def __init__(
        self,
        write: Callable[[Sequence[Any]], Sequence[Any]],
        limiter: anyio.CapacityLimiter,
        *,
        size: Callable[[Any], int] = lambda _item: 1,
        max_items: int = 5000,
        inline_items: int = 0,
    ) -> None:
        self._write = write
        self._limiter = limiter
        self._size = size
        self._max_items = max_items
        self._inline_items = inline_items
        self._pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self._draining = False

    async def submit(self, item: Any) -> Any:
        """Queue ``item`` and wait for its result (the result of ``write`` for it)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await asyncio.shield(future)

    def _take(self) -> tuple[list[tuple[Any, asyncio.Future[Any]]], int]:
        batch, total = [], 0
        while self._pending and (
            not batch or total + self._size(self._pending[0][0]) <= self._max_items
        ):
            item = self._pending.pop(0)
            total += self._size(item[0])
            batch.append(item)
        return batch, total

    async def _run(self, items: list[Any], total: int) -> Sequence[Any]:
        if total <= self._inline_items:
            async with self._limiter:
                return self._write(items)
        return await anyio.to_thread.run_sync(lambda: self._write(items), limiter=self._limiter)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, total = self._take()
                try:
                    results = await self._run([item for item, _ in batch], total)
                except BaseException as error:  # noqa: BLE001 - handed to every waiting request
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    if not isinstance(error, Exception):
                        raise
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._draining = False
