"""The one rewrite that needs a statement's parameters: long IN lists as one array."""

from __future__ import annotations

from engage_desktop.storage.dialect import LONG_LIST, long_lists, to_postgres


def test_a_long_in_list_becomes_one_array_parameter_in_its_place() -> None:
    n = LONG_LIST
    sql = (
        f"SELECT a FROM t WHERE x = ? AND id IN ({','.join('?' * n)}) AND y = 'why?'"
        f" AND z NOT IN ({', '.join('?' * (n + 5))}) AND w = ?"
    )
    params = ("x", *range(n), *(f"z{i}" for i in range(n + 5)), "w")
    statement, args = long_lists(sql, params)
    assert statement == "SELECT a FROM t WHERE x = ? AND id = ANY(?) AND y = 'why?'" + (
        " AND z <> ALL(?) AND w = ?"
    )
    assert args == ("x", list(range(n)), [f"z{i}" for i in range(n + 5)], "w")
    assert to_postgres(statement).count("%s") == 4  # the literal's ? is left alone


def test_short_lists_and_lists_of_other_things_are_left_as_they_are() -> None:
    short = f"SELECT 1 FROM t WHERE id IN ({','.join('?' * (LONG_LIST - 1))}) AND a = ?"
    params = tuple(range(LONG_LIST))
    assert long_lists(short, params) == (short, params)
    values = f"INSERT INTO t (a) VALUES ({','.join('?' * LONG_LIST)})"  # not an IN list
    assert long_lists(values, tuple(range(LONG_LIST))) == (values, tuple(range(LONG_LIST)))


def test_sqlites_null_order_is_said_except_for_an_id_which_is_never_null() -> None:
    """`id NULLS FIRST` after an index ending in a plain `id` made PostgreSQL sort again."""
    assert to_postgres("SELECT 1 FROM c ORDER BY c.updated_at, c.id LIMIT ?") == (
        "SELECT 1 FROM c ORDER BY c.updated_at NULLS FIRST, c.id LIMIT %s"
    )
    assert to_postgres("SELECT 1 FROM c ORDER BY name DESC, id DESC") == (
        "SELECT 1 FROM c ORDER BY name DESC NULLS LAST, id DESC"
    )
    assert to_postgres("SELECT 1 FROM c ORDER BY paid, c.idx") == (
        "SELECT 1 FROM c ORDER BY paid NULLS FIRST, c.idx NULLS FIRST"
    )
