"""Property: whatever happens, in whatever order — syncs of Klaviyo, of Mailjet or of both
(full or incremental), a source failing, CSV imports (opted-out rows included), local
opt-outs, people changing consent, lists and numbers at either source —

1. no opt-out is lost: a number opted out anywhere (here, in Mailjet or a CSV file as a sync
   or an import saw it, in Klaviyo as a sync saw it) is never subscribed here unless Klaviyo
   recorded SUBSCRIBED for it after that opt-out; every opt-out that did not come from
   Klaviyo reaches Klaviyo once the number has a Klaviyo profile;
2. no number is duplicated: one contact per number, and every record with a number belongs
   to the contact of that number;
3. a contact's groups are exactly its records' groups, and after a clean sync of both
   sources they are what the sources hold.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator import mailjet as mj
from engage_desktop.imports.importer import import_file, prepare
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.mailjet.ratelimit import RateBudget
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.mailjet_settings import MailjetSettings, MailjetSettingsRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.engine import SyncEngine
from engage_desktop.sync.sources.klaviyo import KlaviyoSource
from engage_desktop.sync.sources.mailjet import MailjetSource

from ..sync.conftest import sms_consent
from .conftest import MJ_KEYS

PHONES = ["+14155550161", "+14155550162", "+14155550163"]
WRITTEN = {p: f"({p[2:5]}) {p[5:8]}-{p[8:]}" for p in PHONES}  # Mailjet writes them nationally
K = st.integers(0, 5)
CONSENTS = ["SUBSCRIBED", "UNSUBSCRIBED", None]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("k_new"), st.integers(0, 2), st.sampled_from(CONSENTS)),
        st.tuples(st.just("k_consent"), K, st.sampled_from(["SUBSCRIBED", "UNSUBSCRIBED"])),
        st.tuples(st.just("k_delete"), K, st.none()),
        st.tuples(st.just("m_new"), st.integers(0, 2), st.sampled_from([True, False, None])),
        st.tuples(st.just("m_optin"), K, st.sampled_from([True, False])),
        st.tuples(st.just("m_unsub"), K, st.integers(0, 1)),
        st.tuples(st.just("m_phone"), K, st.integers(0, 2)),
        st.tuples(st.just("m_delete"), K, st.none()),
        st.tuples(st.just("csv"), st.sets(st.integers(0, 2), min_size=1), st.booleans()),
        st.tuples(st.just("optout"), st.integers(0, 2), st.none()),
        st.tuples(st.just("sync"), st.sampled_from(["both", "KLAVIYO", "MAILJET"]), st.booleans()),
        st.tuples(st.just("mj_down"), st.none(), st.none()),
    ),
    max_size=12,
)  # fmt: skip


class Oracle:
    """What happened, as the invariants need it."""

    def __init__(self) -> None:
        self.opted_out_at: dict[str, float] = {}  # number -> its newest opt-out anywhere
        self.subscribed_at: dict[str, list[float]] = {p: [] for p in PHONES}
        self.k_consents: dict[int, tuple[str | None, float]] = {}  # Klaviyo index -> consent
        self.m_optin: dict[int, bool | None] = {}  # Mailjet index -> sms_opt_in
        self.m_phone: dict[int, str] = {}

    def opt_out(self, phone: str, at: float) -> None:
        self.opted_out_at[phone] = max(at, self.opted_out_at.get(phone, 0.0))

    def seen_by_sync(
        self, k: KlaviyoEmulator, m: mj.MailjetEmulator, which: str, at: float
    ) -> None:
        if which in ("both", "KLAVIYO"):
            for i, (consent, when) in self.k_consents.items():
                if not k.store.exists(i):
                    continue
                phone = k.store.attributes(i).get("phone_number")
                if consent == "UNSUBSCRIBED":
                    self.opt_out(phone, when)
                elif consent == "SUBSCRIBED":
                    self.subscribed_at[phone].append(when)
        if which in ("both", "MAILJET"):
            for i, value in self.m_optin.items():
                if value is False and _on_a_list(m, i):
                    self.opt_out(self.m_phone[i], at)

    def check(self, db: Database) -> None:
        for c in ContactRepo(db).search():
            if c.phone in self.opted_out_at and c.sms_status is SmsStatus.SUBSCRIBED:
                newer = [t for t in self.subscribed_at[c.phone] if t > self.opted_out_at[c.phone]]
                assert newer, f"{c.phone} opted out, then subscribed with no newer consent"
        _one_contact_per_number(db)
        _groups_are_the_records_groups(db)


def _on_a_list(m: mj.MailjetEmulator, i: int) -> bool:
    """A Mailjet contact a sync reads: it exists and is subscribed to a list (one that was
    unsubscribed from every list before any sync saw it is not a record of ours)."""
    if m.store.contact(i) is None:
        return False
    for lst in m.store.lists():
        member = m.store.members.member(lst, i)
        if member is not None and not member.unsubscribed:
            return True
    return False


def _one_contact_per_number(db: Database) -> None:
    dup = db.execute_sql(
        "SELECT phone FROM contacts WHERE phone IS NOT NULL GROUP BY phone HAVING count(*) > 1"
    ).fetchall()
    assert not dup, f"numbers on several contacts: {dup}"
    stray = db.execute_sql(
        "SELECT s.source, s.external_id, s.phone, c.phone FROM contact_sources s"
        " JOIN contacts c ON c.id = s.contact_id WHERE s.phone IS NOT NULL"
        " AND s.phone IS NOT c.phone"
    ).fetchall()
    assert not stray, f"records on another number's contact: {stray}"


def _groups_are_the_records_groups(db: Database) -> None:
    derived = set(
        db.execute_sql(
            "SELECT DISTINCT rm.list_id, cs.contact_id FROM record_members rm"
            " JOIN contact_sources cs ON cs.source = rm.source AND cs.external_id = rm.external_id"
        ).fetchall()
    )
    stored = set(db.execute_sql("SELECT list_id, contact_id FROM list_members").fetchall())
    assert stored == derived, f"groups {stored ^ derived} differ from the records' groups"


def _groups_are_what_the_sources_hold(
    db: Database, k: KlaviyoEmulator, m: mj.MailjetEmulator, csv_groups: dict[str, set[str]]
) -> None:
    want: set[tuple[str, str, str]] = set()  # (source, record id, group name)
    for lst in k.store.lists.values():
        for i in range(k.store.n_total):
            if k.store.exists(i) and k.store.is_member(lst, i):
                want.add(("KLAVIYO", k.store.profile_id(i), f"Klaviyo: {lst.name}"))
    for lst in m.store.lists():
        for i in range(m.store.n_total):
            member = m.store.members.member(lst, i)
            if member is not None and not member.unsubscribed:
                want.add(("MAILJET", str(m.store.contact_id(i)), f"Mailjet: {lst.name}"))
    for name, phones in csv_groups.items():
        want |= {("CSV", p, f"CSV: {name}") for p in phones}
    have = set(
        db.execute_sql(
            "SELECT cs.source, cs.external_id, l.name FROM contact_sources cs"
            " JOIN record_members rm ON rm.source = cs.source AND rm.external_id = cs.external_id"
            " JOIN contact_lists l ON l.id = rm.list_id"
        ).fetchall()
    )
    kept = {(s, e) for s, e, _ in have}
    # Records without a valid number are kept as their own contacts: compare what is stored.
    assert have == {w for w in want if (w[0], w[1]) in kept}, have ^ want


async def scenario(steps: list[tuple[str, Any, Any]], folder: Path) -> None:
    k = KlaviyoEmulator(Settings(profiles=0, lists=1, job_delay_s=0.0, rate_limits=False))
    m = mj.MailjetEmulator(mj.Settings(contacts=0, lists=2, rate_limit_per_s=0))
    klist = next(iter(k.store.lists.values()))
    mlists = m.store.lists()
    db = open_database(folder)
    ConnectionRepo(db).save(
        Connection(k.store.data.account_id, "Shop", "http://127.0.0.1", ConsentMode.INFERRED, None)
    )
    MailjetSettingsRepo(db).save(
        MailjetSettings(
            "http://127.0.0.1", MJ_KEYS.ref, MJ_KEYS.hint, "phone", None,
            ConsentMode.INFERRED, "sms_opt_in",
        )
    )  # fmt: skip
    oracle, csv_groups = Oracle(), dict[str, set[str]]()
    kt, mt = httpx.ASGITransport(app=k), httpx.ASGITransport(app=m)
    async with (
        KlaviyoClient(
            ApiKey(DEMO_API_KEY), "http://127.0.0.1", transport=kt, retry_base_s=0.001,
            max_attempts=2,
        ) as kc,
        MailjetClient(
            MJ_KEYS.key, MJ_KEYS.secret, "http://127.0.0.1", transport=mt, retry_base_s=0.001,
            max_attempts=2, budget=RateBudget(enabled=False),
        ) as mc,
    ):  # fmt: skip

        async def sync(which: str, full: bool, clock: Any = time.time) -> None:
            oracle.seen_by_sync(k, m, which, time.time())
            sources: list[Any] = []
            if which in ("both", "KLAVIYO"):
                sources.append(KlaviyoSource(db, kc, chains=2, clock=clock))
            if which in ("both", "MAILJET"):
                sources.append(MailjetSource(db, mc, clock=clock))
            await SyncEngine(db, kc, sources=sources, who="property", clock=clock).run(
                "manual", full
            )
            m.faults.clear()
            await asyncio.sleep(0)  # accepted unsubscribe jobs apply in Klaviyo

        kprofiles: list[int] = []
        mcontacts: list[int] = []
        for n, (op, a, b) in enumerate(steps):
            now = time.time()
            if op == "k_new":
                attrs: dict[str, Any] = {"phone_number": PHONES[a], "first_name": f"K{n}"}
                if b is not None:
                    attrs["subscriptions"] = sms_consent(b, now)
                i = k.store.create(attrs)
                k.store.add_member(klist, i)
                kprofiles.append(i)
                oracle.k_consents[i] = (b, now)
            elif op == "k_consent" and a < len(kprofiles) and k.store.exists(kprofiles[a]):
                i = kprofiles[a]
                attrs = k.store.attributes(i)
                attrs["subscriptions"] = sms_consent(b, now)
                k.store.save(i, attrs)
                oracle.k_consents[i] = (b, now)
            elif op == "k_delete" and a < len(kprofiles) and k.store.exists(kprofiles[a]):
                k.store.delete(kprofiles[a])
            elif op == "m_new":
                i = m.store.create_contact(f"m{n}@x.test", f"M{n}")
                values = [{"Name": "phone", "Value": WRITTEN[PHONES[a]]}]
                if b is not None:
                    values.append({"Name": "sms_opt_in", "Value": b})
                m.store.set_values(i, values)
                m.store.members.add(mlists[n % 2], i, m.store.now())
                m.store.changed()
                mcontacts.append(i)
                oracle.m_optin[i], oracle.m_phone[i] = b, PHONES[a]
            elif op in ("m_optin", "m_unsub", "m_phone", "m_delete") and a < len(mcontacts):
                i = mcontacts[a]
                if m.store.contact(i) is None:
                    continue
                if op == "m_optin":
                    m.store.set_values(i, [{"Name": "sms_opt_in", "Value": b}])
                    oracle.m_optin[i] = b
                elif op == "m_phone":
                    m.store.set_values(i, [{"Name": "phone", "Value": WRITTEN[PHONES[b]]}])
                    oracle.m_phone[i] = PHONES[b]
                elif op == "m_unsub":
                    member = m.store.members.member(mlists[b], i)
                    if member is not None:
                        m.store.members.update(member, active=None, unsub=True, now=m.store.now())
                else:
                    m.store.delete_contact(i)
                m.store.changed()
            elif op == "csv":
                name = f"Fair {n % 2}"
                path = folder / f"import{n}.csv"
                rows = "".join(f"{PHONES[p]},{'yes' if b else ''}\n" for p in sorted(a))
                path.write_text("Phone,Opted out\n" + rows)
                import_file(db, prepare(path, name, "US"))
                csv_groups.setdefault(name, set()).update(PHONES[p] for p in a)
                if b:
                    for p in a:
                        oracle.opt_out(PHONES[p], now)
            elif op == "optout":
                contacts = ContactRepo(db)
                cid = contacts.find_by_phone(PHONES[a])
                if cid is None:
                    contacts.add_opted_out(PHONES[a], "STOP", now)
                else:
                    contacts.mark_opted_out(cid, "STOP", now)
                oracle.opt_out(PHONES[a], now)
            elif op == "mj_down":
                m.faults.arm("/v3", "503", 50)
            elif op == "sync":
                await sync(a, b)
            await asyncio.sleep(0.002)
            oracle.check(db)
        # Everyone online, past every retry time: a clean full sync of both.
        m.faults.clear()
        await sync("both", True, clock=lambda: time.time() + 7200)
        await sync("both", True, clock=lambda: time.time() + 7200)
        oracle.check(db)
        _groups_are_what_the_sources_hold(db, k, m, csv_groups)
        _opt_outs_reached_klaviyo(db)
    db.close()


def _opt_outs_reached_klaviyo(db: Database) -> None:
    assert OutboxRepo(db).pending_count() == 0, "an opt-out was never sent"
    unheard = db.execute_sql(
        "SELECT c.phone FROM contacts c JOIN suppressions s ON s.phone = c.phone"
        " AND s.lifted_at IS NULL AND s.origin != 'KLAVIYO'"
        " WHERE EXISTS (SELECT 1 FROM contact_sources cs WHERE cs.contact_id = c.id"
        " AND cs.source = 'KLAVIYO')"
        " AND NOT EXISTS (SELECT 1 FROM contact_sources cs WHERE cs.contact_id = c.id"
        " AND cs.source = 'KLAVIYO' AND cs.consent = 'UNSUBSCRIBED')"  # Klaviyo knows
        " AND NOT EXISTS (SELECT 1 FROM optout_outbox o WHERE o.phone = c.phone"
        " AND o.created_at >= s.opted_out_at AND o.sent_at IS NOT NULL)"
    ).fetchall()
    assert not unheard, f"opt-outs Klaviyo never heard of: {unheard}"


# PROPERTY_EXAMPLES=500 for a deeper search than the suite's.
@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=ops)
def test_opt_outs_are_never_lost_numbers_never_doubled_groups_follow_sources(
    steps: list[tuple[str, Any, Any]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(steps, Path(folder)))
