"""Who a message reaches: eligibility per consent mode, skipped by reason, personalisation,
preview and segments, and the campaign that records it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engage_desktop.actions import ActionError
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.messaging import CampaignStatus, SkipReason
from engage_desktop.core.personalisation import parse_template
from engage_desktop.storage.audience import AudienceRepo, reason_sql
from engage_desktop.storage.campaign_views import CampaignViews
from engage_desktop.storage.contact_table import ContactTable
from engage_desktop.storage.contacts import ContactRepo

from .conftest import World, build_world


def klaviyo_consents(world: World) -> dict[str, set[str | None]]:
    """E.164 phone -> Klaviyo's SMS consents of its profiles, read from the emulator."""
    store = world.klaviyo.store
    out: dict[str, set[str | None]] = {}
    for i in range(store.n_total):
        if not store.exists(i):
            continue
        attrs = store.attributes(i)
        sms = (((attrs.get("subscriptions") or {}).get("sms") or {}).get("marketing")) or {}
        phone = attrs.get("phone_number")
        if isinstance(phone, str) and phone.startswith("+"):
            out.setdefault(phone, set()).add(sms.get("consent"))
    return out


@pytest.mark.parametrize("mode", [ConsentMode.EXPLICIT, ConsentMode.INFERRED])
async def test_eligible_means_subscribed_with_a_number_and_no_standing_opt_out(
    tmp_path: Path, mode: ConsentMode
) -> None:
    world = build_world(tmp_path, mode)
    await world.sync()
    await world.connect_gateway()
    name = world.list_name()
    plan = world.actions.sending.plan(name, "Sale today")
    lst = world.actions.sending.find_list(name)
    base = ContactTable(world.db).recipients(lst.id)
    assert plan.recipients == world_eligible(world, name)
    assert plan.skipped.get(SkipReason.OPTED_OUT, 0) == base.opted_out
    assert plan.skipped.get(SkipReason.NEVER_SUBSCRIBED, 0) == base.never_subscribed
    assert plan.recipients + sum(plan.skipped.values()) == base.total
    consents = klaviyo_consents(world)
    campaign = world.actions.sending.prepare(name, "Sale today")
    pending = {
        r.phone
        for r in world.actions.sending.recipients(campaign.id, limit=10_000)
        if r.state == "pending"
    }
    checked = 0
    for phone in pending & consents.keys():
        if mode is ConsentMode.EXPLICIT:
            assert "SUBSCRIBED" in consents[phone]  # Klaviyo recorded SUBSCRIBED
        assert "UNSUBSCRIBED" not in consents[phone]
        checked += 1
    assert checked > len(pending) / 2
    if mode is ConsentMode.EXPLICIT:
        assert plan.skipped.get(SkipReason.NEVER_SUBSCRIBED, 0) > 0
    else:
        assert SkipReason.NEVER_SUBSCRIBED not in plan.skipped


def world_eligible(world: World, name: str) -> int:
    return len(world.eligible_phones(name))


async def test_a_local_opt_out_and_a_blacklisted_number_are_skipped(world: World) -> None:
    name = world.list_name()
    phones = sorted(world.eligible_phones(name))
    cid = ContactRepo(world.db).find_by_phone(phones[0])
    assert cid is not None
    world.actions.optouts.opt_out_contact(cid, "clicked")
    world.db.execute_sql(
        "INSERT INTO gateway_blacklist (phone, listed) VALUES (?, 1)", (phones[1],)
    )
    plan = world.actions.sending.plan(name, "Hi")
    assert plan.recipients == len(phones) - 2
    assert plan.skipped[SkipReason.GATEWAY_BLOCKED] == 1


async def test_personalisation_fallbacks_skips_and_preview(world: World) -> None:
    name = world.list_name()
    world.db.execute_sql("INSERT INTO platform_fields (name, type) VALUES ('Shoe size', 'number')")
    contacts = world.actions.sending.preview_plan(name, "Hi", limit=500)
    sendable = [c for c in contacts if c.skipped is None]
    with_size, without_name = sendable[0], sendable[1]
    world.db.execute_sql(
        "UPDATE contacts SET fields = ? WHERE id = ?",
        (json.dumps({"Shoe size": 42.0}), with_size.contact_id),
    )
    world.db.execute_sql(
        "UPDATE contacts SET first_name = NULL WHERE id = ?", (without_name.contact_id,)
    )
    text = "Hi {first_name|friend}, size {Shoe size} is back"
    plan = world.actions.sending.plan(name, text)
    assert plan.recipients == 1  # only one contact has a shoe size
    assert plan.skipped[SkipReason.MISSING_FIELD] == len(sendable) - 1
    rows = {r.contact_id: r for r in world.actions.sending.preview_plan(name, text, limit=500)}
    assert rows[with_size.contact_id].text is not None
    assert rows[with_size.contact_id].text.endswith("size 42 is back")
    assert rows[without_name.contact_id].missing == ("{Shoe size}",)
    campaign = world.actions.sending.prepare(name, "Hi {first_name|friend}!")
    texts = {r.contact_id: r.text for r in world.actions.sending.recipients(campaign.id, limit=500)}
    assert texts[without_name.contact_id] == "Hi friend!"
    assert campaign.personal and campaign.status is CampaignStatus.READY


async def test_segments_are_counted_per_recipient(world: World) -> None:
    name = world.list_name()
    plan = world.actions.sending.plan(name, "x" * 161)
    assert (plan.segments_min, plan.segments_max, plan.encoding) == (2, 2, "GSM-7")
    assert plan.segments == 2 * plan.recipients
    emoji = world.actions.sending.plan(name, "Sale 🎉 {first_name|there}")
    assert emoji.encoding == "UCS-2" and emoji.segments == emoji.recipients


async def test_a_campaign_records_every_member_with_its_state(world: World) -> None:
    name = world.list_name()
    campaign = world.actions.sending.prepare(name, "Sale {{today}}")
    counts = campaign.counts
    assert counts.eligible == counts.pending == world_eligible(world, name)
    assert counts.total == counts.pending + sum(counts.skipped.values())
    row = world.actions.sending.recipients(campaign.id, limit=1, state="pending")[0]
    assert row.text == "Sale {today}"  # braces written as {{ }} are sent as braces
    views = CampaignViews(world.db)  # what the Campaigns screen lists, by id
    every = views.recipient_ids(campaign.id)
    assert len(every) == counts.total and list(every) == sorted(every)
    assert set(views.recipients_by_id(list(every)[:5])) == set(list(every)[:5])


async def test_lists_are_found_by_id_name_or_short_name(world: World) -> None:
    name = world.list_name()
    by_name = world.actions.sending.find_list(name)
    assert world.actions.sending.find_list(name.split(": ", 1)[1]) == by_name
    assert world.actions.sending.find_list(str(by_name.id)) == by_name
    assert world.actions.sending.find_list(None).id is None
    with pytest.raises(ActionError, match="No contact list"):
        world.actions.sending.find_list("Nope")


async def test_an_unknown_placeholder_is_refused_before_anything_is_written(world: World) -> None:
    with pytest.raises(ActionError, match="is not a contact detail"):
        world.actions.sending.prepare(world.list_name(), "Hi {nickname}")
    assert world.actions.sending.campaigns() == []


@pytest.mark.parametrize("text", ["Hi", "Dear {last_name}", "Hi {first_name|you} {email}"])
async def test_the_fast_count_agrees_with_the_rule_row_by_row(world: World, text: str) -> None:
    """Odd cases on purpose: a subscribed contact whose number has a standing opt-out (the
    rules never make one; the count must not trust that), numbers on the blacklist, with and
    without an opt-out, and contacts without the details a message needs."""
    name = world.list_name()
    phones = sorted(world.eligible_phones(name))
    world.db.execute_sql(
        "INSERT INTO suppressions (phone, opted_out_at, reason, origin) VALUES (?, 1, 'x', 'X'),"
        " (?, 1, 'x', 'X')",
        (phones[0], phones[1]),
    )
    for phone in (phones[1], phones[2], phones[3]):
        world.db.execute_sql(
            "INSERT INTO gateway_blacklist (phone, listed) VALUES (?, 1)", (phone,)
        )
    world.db.execute_sql(
        "UPDATE contacts SET last_name = NULL, email = ' ' WHERE phone IN (?, ?, ?, ?)",
        (phones[0], phones[2], phones[4], phones[5]),
    )
    audience = AudienceRepo(world.db)
    lst = world.actions.sending.find_list(name)
    template = parse_template(text)
    case, params = reason_sql(template)
    for where, args in ((" WHERE c.id IN (SELECT contact_id FROM list_members WHERE list_id = ?)",
                         [lst.id]), ("", [])):  # fmt: skip
        rows = world.db.execute_sql(
            f"SELECT r, count(*) FROM (SELECT {case} AS r FROM contacts c{where}) AS x GROUP BY r",
            [*params, *args],
        )
        by_rule = {r: n for r, n in rows}
        target = lst if where else world.actions.sending.find_list(None)
        assert audience.counts(target, template) == by_rule
