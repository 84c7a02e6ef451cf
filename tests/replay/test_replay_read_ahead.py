"""The replay's reader thread: order, errors where they happened, and a clean stop."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext

import pytest

from ncp_driver.bags import BagError
from ncp_driver.replay.engine import _read_ahead


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ncp-replay-reader"]


def test_items_arrive_in_order() -> None:
    with _read_ahead(iter(range(500)), 3) as items:
        assert list(items) == list(range(500))
    assert not reader_threads()


def test_a_reader_error_is_raised_after_the_items_before_it() -> None:
    def damaged() -> Iterator[int]:
        yield 1
        yield 2
        raise BagError("reading stopped part-way")

    got: list[int] = []
    with pytest.raises(BagError, match="part-way"), _read_ahead(damaged(), 8) as items:
        got.extend(items)
    assert got == [1, 2]
    assert not reader_threads()


@pytest.mark.parametrize("how", ["break", "raise"])
def test_leaving_early_stops_the_reader(how: str) -> None:
    produced: list[int] = []
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            for i in itertools.count():
                produced.append(i)
                yield i
        finally:
            closed.set()

    expect: AbstractContextManager[object] = (
        pytest.raises(RuntimeError) if how == "raise" else nullcontext()
    )
    with expect, _read_ahead(endless(), 4) as items:
        assert next(items) == 0
        if how == "raise":
            raise RuntimeError("the model failed")
    assert closed.is_set()  # the bag's generator was closed before the block was left
    assert not reader_threads()
    assert len(produced) <= 1 + 4 + 2  # at most the depth ahead (plus one in hand)
