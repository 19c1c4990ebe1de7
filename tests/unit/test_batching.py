"""The batcher: writes to one partition arriving together become one transaction, and a
failed transaction leaves each caller the answer of its own write."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

import pytest

from teams_app.storage.batching import MAX_BATCH, MIN_TOGETHER, Batcher


class Table:
    """A partitioned table whose transactions fail, all or nothing, on a taken row."""

    def __init__(self) -> None:
        self.rows: set[tuple[Hashable, str]] = set()
        self.transactions: list[int] = []
        self.singles = 0

    async def together(self, group: Hashable, rows: list[str]) -> list[str]:
        await asyncio.sleep(0)
        self.transactions.append(len(rows))
        assert len(rows) <= MAX_BATCH
        if any((group, r) in self.rows for r in rows) or len(set(rows)) < len(rows):
            raise RuntimeError("the transaction failed")
        self.rows.update((group, r) for r in rows)
        return [f"etag-{r}" for r in rows]

    async def alone(self, item: tuple[Hashable, str]) -> str:
        await asyncio.sleep(0)
        self.singles += 1
        if item in self.rows:
            raise KeyError(item[1])
        self.rows.add(item)
        return f"etag-{item[1]}"


class Writer:
    """Callers writing rows through a batcher."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._group_of: dict[str, Hashable] = {}
        self.batcher: Batcher[str, str] = Batcher(table.together, self._alone)

    async def _alone(self, row: str) -> str:
        return await self._table.alone((self._group_of[row], row))

    async def write(self, group: Hashable, row: str) -> str:
        self._group_of[row] = group
        return await self.batcher.submit(group, row)


async def test_writes_to_a_partition_arriving_together_go_as_one_transaction() -> None:
    table = Table()
    writer = Writer(table)
    submit = writer.write
    results = await asyncio.gather(
        *(submit("tenant-a", f"a{n}") for n in range(30)),
        *(submit("tenant-b", f"b{n}") for n in range(250)),
    )
    assert results == [f"etag-a{n}" for n in range(30)] + [f"etag-b{n}" for n in range(250)]
    assert sorted(table.transactions) == [30, 50, 100, 100], "per partition, 100 at most"
    assert table.singles == 0


async def test_a_few_writes_together_go_as_separate_requests() -> None:
    """Below :data:`MIN_TOGETHER` a transaction costs more than the separate requests."""
    table = Table()
    writer = Writer(table)
    few = await asyncio.gather(*(writer.write("p", f"a{n}") for n in range(MIN_TOGETHER - 1)))
    assert few == [f"etag-a{n}" for n in range(MIN_TOGETHER - 1)]
    assert table.transactions == [] and table.singles == MIN_TOGETHER - 1
    await asyncio.gather(*(writer.write("p", f"b{n}") for n in range(MIN_TOGETHER)))
    assert table.transactions == [MIN_TOGETHER] and table.singles == MIN_TOGETHER - 1


async def test_a_failed_transaction_gives_each_caller_its_own_answer() -> None:
    table = Table()
    table.rows.add(("tenant-a", "a3"))  # taken: the whole transaction fails
    writer = Writer(table)
    submit = writer.write
    results = await asyncio.gather(
        *(submit("tenant-a", f"a{n}") for n in range(6)), return_exceptions=True
    )
    assert isinstance(results[3], KeyError)
    assert [r for n, r in enumerate(results) if n != 3] == [
        f"etag-a{n}" for n in range(6) if n != 3
    ]
    assert table.transactions == [6] and table.singles == 6
    assert {r for g, r in table.rows} == {f"a{n}" for n in range(6)}


async def test_a_lone_write_goes_alone_and_a_caller_who_gives_up_loses_nothing() -> None:
    table = Table()
    writer = Writer(table)
    submit = writer.write
    assert await submit("tenant-a", "a1") == "etag-a1"
    assert table.transactions == [] and table.singles == 1
    waiting = asyncio.ensure_future(submit("tenant-a", "a2"))
    also = asyncio.ensure_future(submit("tenant-a", "a3"))
    await asyncio.sleep(0)
    waiting.cancel()  # a turn that ran out of time: its write still goes
    assert await also == "etag-a3"
    await writer.batcher.drain()
    assert ("tenant-a", "a2") in table.rows
    with pytest.raises(asyncio.CancelledError):
        await waiting
