"""Consent table and field coercion: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engage_desktop.core.consent import (
    ConsentMode,
    RecordConsent,
    SmsStatus,
    consent_table,
    derive_status,
    status_from_klaviyo,
)
from engage_desktop.core.fields import FieldType, coerce
from engage_desktop.storage.merge_rows import plain_verdicts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("consent", "inferred", "explicit"),
    [
        ("SUBSCRIBED", SmsStatus.SUBSCRIBED, SmsStatus.SUBSCRIBED),
        ("UNSUBSCRIBED", SmsStatus.OPTED_OUT, SmsStatus.OPTED_OUT),
        ("NEVER_SUBSCRIBED", SmsStatus.SUBSCRIBED, SmsStatus.NEVER_SUBSCRIBED),
        (None, SmsStatus.SUBSCRIBED, SmsStatus.NEVER_SUBSCRIBED),
    ],
)
def test_consent_table(consent: str | None, inferred: SmsStatus, explicit: SmsStatus) -> None:
    assert status_from_klaviyo(consent, ConsentMode.INFERRED) is inferred
    assert status_from_klaviyo(consent, ConsentMode.EXPLICIT) is explicit


def test_table_for_display_has_every_case() -> None:
    rows = dict(consent_table(ConsentMode.EXPLICIT))
    assert rows["no SMS consent"] is SmsStatus.NEVER_SUBSCRIBED and len(rows) == 4


def _k(consent: str | None, at: datetime | None, mode: ConsentMode = ConsentMode.INFERRED):  # type: ignore[no-untyped-def]
    return RecordConsent("KLAVIYO", consent, at.timestamp() if at else None, mode)


def test_a_standing_opt_out_beats_older_subscribed_but_not_newer() -> None:
    older, newer = T0 - timedelta(days=1), T0 + timedelta(seconds=1)
    out, t0, now = SmsStatus.OPTED_OUT, T0.timestamp(), T0.timestamp() + 99
    assert derive_status([_k("SUBSCRIBED", older)], t0, now).status is out
    assert derive_status([_k("SUBSCRIBED", None)], t0, now).status is out
    assert derive_status([_k("NEVER_SUBSCRIBED", newer)], t0, now).status is out
    resubscribed = derive_status([_k("SUBSCRIBED", newer)], t0, now)
    assert (
        resubscribed.status is SmsStatus.SUBSCRIBED and resubscribed.lifted_at == newer.timestamp()
    )
    fresh = derive_status([_k("UNSUBSCRIBED", older)], None, now)
    assert fresh.status is out and fresh.opt_out_at == older.timestamp()


def test_any_record_that_says_unsubscribed_wins_whatever_the_others_say() -> None:
    newer = T0 + timedelta(days=1)
    twins = [_k("SUBSCRIBED", newer), _k("UNSUBSCRIBED", T0), _k(None, None)]
    for order in (twins, twins[::-1]):
        assert derive_status(order, None, 0).status is SmsStatus.OPTED_OUT
        assert derive_status(order, T0.timestamp() - 5, 0).status is SmsStatus.OPTED_OUT


def test_without_an_opt_out_the_mode_of_each_record_decides() -> None:
    explicit = ConsentMode.EXPLICIT
    assert derive_status([_k(None, None, explicit)], None, 0).status is SmsStatus.NEVER_SUBSCRIBED
    assert derive_status([_k(None, None)], None, 0).status is SmsStatus.SUBSCRIBED
    mixed = [_k(None, None, explicit), _k("SUBSCRIBED", T0, explicit)]
    assert derive_status(mixed, None, 0).status is SmsStatus.SUBSCRIBED


def test_the_cached_verdict_of_records_without_an_opt_out_is_the_derived_one() -> None:
    """The merge computes one verdict per combination of (source, consent, mode) when no
    record says UNSUBSCRIBED and no opt-out stands (storage/merge_rows.py plain_verdicts):
    every such combination of one to three records, with times, derives the same."""
    says = ["SUBSCRIBED", "NEVER_SUBSCRIBED", None]
    one = [
        (source, consent, mode)
        for source in ("KLAVIYO", "MAILJET", "CSV")
        for consent in says
        for mode in ConsentMode
    ]
    combos = [(a,) for a in one] + [(a, b) for a in one for b in one]
    combos += [(a, b, c) for a, b, c in zip(one, reversed(one), one[5:] + one[:5], strict=True)]
    for combo in combos:
        timed = [RecordConsent(s, c, 1.7e9 + 60 * i, m) for i, (s, c, m) in enumerate(combo)]
        assert plain_verdicts(tuple(combo)) == derive_status(timed, None, 1.8e9), combo


@pytest.mark.parametrize(
    ("value", "ftype", "expected"),
    [
        ("hello", FieldType.TEXT, "hello"),
        (True, FieldType.TEXT, "true"),
        ({"b": 1, "a": [1]}, FieldType.TEXT, '{"a": [1], "b": 1}'),
        (42, FieldType.NUMBER, 42.0),
        (" 9.5 ", FieldType.NUMBER, 9.5),
        ("02139", FieldType.NUMBER, 2139.0),
        ("1988-04-12", FieldType.DATE, "1988-04-12"),
        ("2024-05-01T10:20:30Z", FieldType.DATE, "2024-05-01T10:20:30+00:00"),
        ("2024-05-01T12:20:30+02:00", FieldType.DATE, "2024-05-01T10:20:30+00:00"),
        (0, FieldType.DATE, "1970-01-01T00:00:00+00:00"),
        (None, FieldType.NUMBER, None),
    ],
)
def test_values_that_fit(value: object, ftype: FieldType, expected: object) -> None:
    result = coerce(value, ftype)
    assert result.ok and result.value == expected


@pytest.mark.parametrize(
    ("value", "ftype"),
    [
        ("next tuesday", FieldType.DATE),
        ("12 apples", FieldType.NUMBER),
        (True, FieldType.NUMBER),
        ({"a": 1}, FieldType.NUMBER),
        (["x"], FieldType.DATE),
        (float("nan"), FieldType.NUMBER),
        (10**20, FieldType.DATE),
    ],
)
def test_values_that_do_not_fit_say_why(value: object, ftype: FieldType) -> None:
    result = coerce(value, ftype)
    assert not result.ok and result.value is None and result.reason
