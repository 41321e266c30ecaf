"""Generated data: deterministic from the seed, lazy, and as messy as real accounts."""

from __future__ import annotations

from collections import Counter

from engage_desktop.emulator.data import AccountData


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = AccountData(7, 300, 4), AccountData(7, 300, 4), AccountData(8, 300, 4)
    assert [a.attributes(i) for i in range(50)] == [b.attributes(i) for i in range(50)]
    assert a.profile_id(5) == b.profile_id(5) != c.profile_id(5)
    assert [s.id for s in a.lists] == [s.id for s in b.lists]


def test_ids_emails_and_phones_lead_back_to_their_profile() -> None:
    d = AccountData(3, 5000, 2)
    for i in range(0, 5000, 37):
        assert d.index_of(d.profile_id(i)) == i
        email = d.email(i)
        if email:
            assert d.index_for_email(email) == i
        phone = d.phone(i)
        if phone:  # valid, national, invalid and repeated numbers alike
            assert i in d.indexes_for_phone(phone)
    assert d.index_of("01ARZ3NDEKTSV4RRFFQ69G5FAV") is None  # a well-formed id of no profile
    ids = [d.profile_id(i) for i in range(200)]
    assert ids == sorted(ids) and len(set(ids)) == 200  # ULIDs follow creation


def test_a_realistic_mix() -> None:
    n = 20_000
    d = AccountData(1, n, 8)
    phones = [d.phone(i) for i in range(n)]
    with_phone = [p for p in phones if p]
    assert 0.84 < len(with_phone) / n < 0.92
    e164 = sum(1 for p in with_phone if p.startswith("+") and p[1:].isdigit())
    national = sum(1 for p in with_phone if p.startswith(("(", "0")))
    invalid = sum(
        1 for p in with_phone if sum(ch.isdigit() for ch in p) < 10 or p.startswith("+999")
    )
    assert e164 > 0.85 * len(with_phone) and national > 100 and invalid > 100
    # a few profiles carry the previous profile's number written another way
    same_number = sum(
        1
        for i in range(1, n)
        if phones[i]
        and phones[i - 1]
        and phones[i] != phones[i - 1]
        and phones[i].startswith("(")
        and phones[i - 1].startswith("+1")
        and "".join(ch for ch in phones[i] if ch.isdigit()) == phones[i - 1][2:]
    )
    assert same_number > 20
    assert 0.88 < sum(1 for i in range(n) if d.email(i)) / n < 0.96
    sample = [d.attributes(i) for i in range(0, n, 7)]
    names = "".join((a["first_name"] or "") + (a["last_name"] or "") for a in sample)
    assert any(ord(ch) > 127 for ch in names)
    kinds = Counter(type(v).__name__ for a in sample for v in a["properties"].values())
    assert {"int", "float", "str", "bool", "dict", "list"} <= set(kinds)
    assert any(a["properties"].get("birthday", "").count("-") == 2 for a in sample)
    consents = Counter(
        ((a["subscriptions"]["sms"] or {}).get("marketing") or {}).get("consent", "absent")
        for a in sample
    )
    assert set(consents) == {"SUBSCRIBED", "NEVER_SUBSCRIBED", "UNSUBSCRIBED", "absent"}
    years = {a["created"][:4] for a in sample}
    assert len(years) >= 5


def test_lists_overlap() -> None:
    d = AccountData(1, 4000, 3)
    members = [set(d.members(k)[0]) for k in range(3)]
    assert all(members) and members[0] & members[1]
    assert len(members[0]) > len(members[2])  # Newsletter is big, VIP small


def test_asking_for_some_attributes_gives_the_same_values() -> None:
    d = AccountData(1, 3000, 4)
    fieldsets = (
        {"email", "phone_number", "first_name", "last_name", "updated", "subscriptions"},
        {"created", "image"},
        {"properties", "email"},
    )
    for i in range(0, 3000, 7):
        full = d.attributes(i)
        for wanted in fieldsets:
            part = d.attributes(i, wanted)
            assert {k: part[k] for k in wanted} == {k: full[k] for k in wanted}
