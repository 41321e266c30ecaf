"""The run lock between desktops on the team database: the server decides, says who holds it,
and frees it when the holder's session ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage_desktop.storage.database import open_database
from engage_desktop.storage.lease import Lease, LeaseRepo
from engage_desktop.sync.lock import SyncLock, SyncLockHeld, run_elsewhere


def test_a_second_desktop_is_refused_and_told_who_and_since(pg_url: str, tmp_path: Path) -> None:
    a, b = open_database(tmp_path, pg_url), open_database(tmp_path, pg_url)
    first = SyncLock(LeaseRepo(a), "desktop A")
    first.host = "host-a"  # another machine (this test is one process)
    first.acquire()
    with pytest.raises(SyncLockHeld) as refused:
        SyncLock(LeaseRepo(b), "desktop B").acquire()
    message = str(refused.value)
    assert "desktop A" in message and "engage-desktop" in message  # application_name
    assert "127.0.0.1" in message and "host-a" in message and "since" in message
    assert run_elsewhere(LeaseRepo(b)) is not None  # the status panel says so too
    first.release()
    assert LeaseRepo(b).current() is None and run_elsewhere(LeaseRepo(b)) is None
    second = SyncLock(LeaseRepo(b), "desktop B")
    second.acquire()
    second.release()


def test_a_row_left_by_a_dead_holder_does_not_block(pg_url: str, tmp_path: Path) -> None:
    db = open_database(tmp_path, pg_url)
    db.execute_sql(
        "INSERT INTO sync_lease (id, holder, pid, host, started_at, heartbeat_at)"
        " VALUES (1, 'ghost', 4242, 'gone-host', 1.0, 1.0)"
    )
    assert LeaseRepo(db).current() is None  # no session holds the lock: nobody runs
    lock = SyncLock(LeaseRepo(db), "me")
    lock.acquire()
    held = LeaseRepo(db).current()
    assert held is not None and held.holder.startswith(lock.holder)
    lock.release()


def test_the_same_repo_keeps_others_out_while_it_holds(pg_url: str, tmp_path: Path) -> None:
    repo = LeaseRepo(open_database(tmp_path, pg_url))
    assert repo.try_take(Lease("me", 1, "box", 1.0, 1.0), lambda _: True) is None
    assert repo.heartbeat("me", 2.0)
    refused = repo.try_take(Lease("them", 2, "other", 3.0, 3.0), lambda _: True)
    assert refused is not None and refused.holder.startswith("me")
    repo.release("me")
    assert repo.current() is None
