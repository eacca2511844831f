"""The group commit: items that arrive together are written in one call, each caller gets its
own result, and a failed write reaches every caller of its batch; the same whether the batch
runs in a worker thread or (small batches on SQLite) on the event loop."""

from __future__ import annotations

import asyncio
import threading

import anyio
import pytest

from commonplan.server.batching import GroupCommit


class Recorder:
    """A ``write`` that answers each item with its double and remembers its batches and threads."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on

    def __call__(self, items):
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        if self.fail_on in items:
            raise ValueError(f"item {self.fail_on} refused")
        return [2 * item for item in items]


async def _submit_all(commit: GroupCommit, items: list[int]) -> list:
    return await asyncio.gather(*(commit.submit(item) for item in items), return_exceptions=True)


@pytest.mark.parametrize("inline_items", [0, 1000])
def test_concurrent_items_share_batches_and_get_their_own_results(inline_items):
    write = Recorder()

    async def main():
        commit = GroupCommit(
            write, anyio.CapacityLimiter(1), max_items=7, inline_items=inline_items
        )
        return await _submit_all(commit, list(range(40))), threading.get_ident()

    results, loop_thread = asyncio.run(main())
    assert results == [2 * k for k in range(40)]
    assert sorted(k for batch in write.batches for k in batch) == list(range(40))
    assert max(len(batch) for batch in write.batches) == 7  # max_items bounds a batch
    assert len(write.batches) < 40  # they were grouped
    on_loop = write.threads == {loop_thread}
    assert on_loop is bool(inline_items)


@pytest.mark.parametrize("inline_items", [0, 1000])
def test_a_failed_write_reaches_every_caller_of_its_batch_only(inline_items):
    write = Recorder(fail_on=3)

    async def main():
        commit = GroupCommit(
            write, anyio.CapacityLimiter(1), max_items=5, inline_items=inline_items
        )
        return await _submit_all(commit, list(range(10)))

    results = asyncio.run(main())
    failed = next(batch for batch in write.batches if 3 in batch)
    for k, result in enumerate(results):
        if k in failed:
            assert isinstance(result, ValueError) and "item 3 refused" in str(result)
        else:
            assert result == 2 * k
