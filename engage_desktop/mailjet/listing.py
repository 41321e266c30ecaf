"""Reading a whole Mailjet listing: pages by `Offset` in ID order, several at a time.

Mailjet pages by position, not by cursor, so a listing is not a snapshot: a row created or
deleted while it is read shifts every later row by one, and a page may then repeat a row or
miss one. A listing therefore counts its rows before and after reading them and compares
both with what it received; `gap` says why it cannot be trusted as complete (then the sync
removes nothing on its evidence).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engage_desktop.mailjet.client import MailjetClient


class PageShare:
    """Pages in flight for listings read at once: `total` split among the listings still
    reading, so that as listings finish, the last ones ask for more pages at a time and keep
    the rate budget busy. (With four each, the two longest listings of a sync ended alone, at
    eight pages in flight: 24 requests a second where the budget allowed 28.)"""

    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self.reading = 0

    def each(self) -> int:
        return max(1, -(-self.total // max(1, self.reading)))


class Listing:
    """Every row of one listing; read `pages()` once, then `check()`."""

    def __init__(
        self,
        client: MailjetClient,
        resource: str,
        filters: dict[str, str | int],
        doing: str,
        chains: int | PageShare,
        limit: int,
    ) -> None:
        self.client = client
        self.resource = resource
        self.filters = filters
        self.doing = doing
        self.share = chains if isinstance(chains, PageShare) else PageShare(chains)
        self.limit = limit
        self.total: int | None = None  # counted before reading
        self.rows = 0  # received
        self._after: int | None = None  # counted after reading, when `pages` had to

    async def pages(self) -> AsyncIterator[list[Any]]:
        """Pages as they arrive (not in order). The pages planned from the count are asked
        for at once, as many in flight as the share allows; when the last one comes back
        full, rows may have been added meanwhile: the listing is counted again (the count
        `check` compares) and read on to the new count."""
        # The first page brings the count with it (`countrecords`): one request and one
        # round trip less before the rows start coming.
        in_flight: set[asyncio.Task[tuple[int, list[Any]]]] = set()
        self.share.reading += 1
        try:
            self.total, first = await self.client.counted_page(
                self.resource, self.filters, self.doing
            )
            self.rows += len(first)
            end = max(self.total, 1)  # at least one page: an empty listing still answers
            full_to_end = len(first) >= self.limit and self.limit >= end
            yield first
            next_offset = self.limit
            while True:
                while len(in_flight) < self.share.each() and next_offset < end:
                    in_flight.add(asyncio.create_task(self._page(next_offset)))
                    next_offset += self.limit
                if not in_flight:
                    if not full_to_end:
                        return
                    # Asked instead of the next page: `check` needs this count anyway.
                    self._after = await self.client.count(self.resource, self.filters, self.doing)
                    if self._after <= next_offset:
                        return
                    end, full_to_end = self._after, False
                    self._after = None  # `check` counts after these pages too
                    continue
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    offset, rows = task.result()
                    self.rows += len(rows)
                    if offset + self.limit >= end:
                        full_to_end = len(rows) >= self.limit
                    yield rows
        finally:
            self.share.reading -= 1
            for task in in_flight:
                task.cancel()
            for task in in_flight:
                with contextlib.suppress(BaseException):
                    await task

    async def _page(self, offset: int) -> tuple[int, list[Any]]:
        return offset, await self.client.page(self.resource, self.filters, offset, self.doing)

    async def check(self) -> str | None:
        """Why this listing may be incomplete, in words; None when its counts agree."""
        after = self._after
        if after is None:
            after = await self.client.count(self.resource, self.filters, self.doing)
        if self.total is None:
            return f"Mailjet's {self.resource} listing was not read"
        if after != self.total or self.rows != self.total:
            return (
                f"Mailjet's {self.resource} listing changed while it was read "
                f"({self.total:,} rows counted before, {self.rows:,} received, {after:,} after)"
            )
        return None
