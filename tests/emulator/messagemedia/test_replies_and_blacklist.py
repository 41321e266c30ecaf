"""Replies, STOP -> blacklist -> rejected (412), and the Number Authorisation endpoints."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from engage_desktop.emulator.messagemedia.blacklist import page_token
from tests.emulator.messagemedia.helpers import (
    HANDSET,
    OUR_NUMBER,
    FakeClock,
    message,
    reports,
    send,
    status_of,
)

pytestmark = pytest.mark.asyncio
BLACKLIST = "/v1/number_authorisation/mt/blacklist"


async def handset_replies(api: httpx.AsyncClient, content: str, **extra: Any) -> dict[str, Any]:
    r = await api.post(
        "/_emulator/replies", json={"source_number": HANDSET, "content": content, **extra}
    )
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def replies(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await api.get("/v1/replies")
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["replies"]
    return found


async def test_a_reply_answers_the_last_message_with_numbers_inverted(
    api: httpx.AsyncClient,
) -> None:
    await send(api, message(content="older", source_number=OUR_NUMBER))
    (m,) = await send(
        api,
        message(
            source_number=OUR_NUMBER,
            metadata={"campaign": "spring"},
            callback_url="https://my.callback.url.com",
        ),
    )
    answer = await handset_replies(api, "Yes please")
    assert answer["message_id"] == m["message_id"]
    (reply,) = await replies(api)
    assert reply["reply_id"] == answer["reply_id"]
    assert reply["message_id"] == m["message_id"]
    assert reply["source_number"] == HANDSET  # the handset
    assert reply["destination_number"] == OUR_NUMBER  # our number
    assert reply["metadata"] == {"campaign": "spring"}
    assert reply["callback_url"] == "https://my.callback.url.com"
    assert reply["content"] == "Yes please"
    assert reply["date_received"].endswith("Z")
    assert set(reply["vendor_account_id"]) == {"vendor_id", "account_id"}


async def test_a_reply_may_name_the_message_it_answers(api: httpx.AsyncClient) -> None:
    first, _ = await send(api, message(content="one"), message(content="two"))
    answer = await handset_replies(api, "to the first", message_id=first["message_id"])
    (reply,) = await replies(api)
    assert reply["message_id"] == first["message_id"] == answer["message_id"]
    assert "destination_number" not in reply  # the original named no source number


async def test_replies_repeat_until_confirmed(api: httpx.AsyncClient) -> None:
    await send(api, message())
    for text in ("one", "two", "three"):
        await handset_replies(api, text)
    found = await replies(api)
    assert [r["content"] for r in found] == ["one", "two", "three"]
    assert await replies(api) == found
    r = await api.post("/v1/replies/confirmed", json={"reply_ids": [found[1]["reply_id"]]})
    assert (r.status_code, r.content) == (202, b"")
    assert [r["content"] for r in await replies(api)] == ["one", "three"]
    r = await api.post("/v1/replies/confirmed", json={"reply_ids": ["nope"]})
    assert r.status_code == 400


async def test_stop_blacklists_and_the_next_message_is_rejected_412(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    (first,) = await send(api, message())
    clock.advance(3)
    answer = await handset_replies(api, "Stop.")
    assert answer["opt_out_keyword"] == "STOP"
    assert [r["content"] for r in await replies(api)] == ["Stop."]  # also listed, by default
    assert (await api.get(BLACKLIST)).json()["numbers"] == [HANDSET]
    r = await api.get(f"/v1/number_authorisation/is_authorised/{HANDSET},+61491570158")
    assert [n["authorised"] for n in r.json()["numbers"]] == [False, True]

    (m,) = await send(api, message(content="after STOP", delivery_report=True))
    assert m["status"] == "queued"  # still accepted: the refusal comes as a report
    clock.advance(1)
    (report,) = await reports(api)
    assert (report["status"], report["message_id"]) == ("rejected", m["message_id"])
    assert await status_of(api, m["message_id"]) == "rejected"
    rows = (await api.get("/_emulator/messages", params={"status": "rejected"})).json()
    assert [row["error_code"] for row in rows["messages"]] == ["412"]
    assert await status_of(api, first["message_id"]) == "delivered"  # delivered before STOP
    clock.advance(5)
    assert len(await reports(api)) == 1  # rejected is final: no more reports


@pytest.mark.parametrize(
    ("content", "opts_out"),
    [
        ("STOP", True),
        (" stop ", True),
        ("Unsubscribe!", True),
        ("quit", True),
        ("please stop texting me", False),
        ("STOPPED", False),
        ("Yes", False),
    ],
)
async def test_only_a_whole_opt_out_word_blacklists(
    api: httpx.AsyncClient, content: str, opts_out: bool
) -> None:
    await send(api, message())
    answer = await handset_replies(api, content)
    assert (answer["opt_out_keyword"] is not None) is opts_out
    assert ((await api.get(BLACKLIST)).json()["numbers"] == [HANDSET]) is opts_out


async def test_the_blacklist_is_checked_when_the_gateway_takes_the_message(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    # Sent, then STOP arrives before the gateway took it (enroute_after_s = 1): MessageMedia
    # checks the blacklist itself as it processes a message, so this one is rejected too.
    (m,) = await send(api, message())
    await handset_replies(api, "STOP")
    clock.advance(1)
    assert await status_of(api, m["message_id"]) == "rejected"


async def test_stop_replies_can_be_left_out_of_the_replies(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/settings", json={"list_opt_out_replies": False})
    await send(api, message())
    answer = await handset_replies(api, "STOP")
    assert answer["listed"] is False
    assert await replies(api) == []
    assert (await api.get(BLACKLIST)).json()["numbers"] == [HANDSET]


async def test_blacklist_add_201_then_200_and_numbers_without_plus(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(BLACKLIST, json={"numbers": ["61491570156", "+61491570157"]})
    assert r.status_code == 201
    assert r.json() == {"uri": BLACKLIST, "numbers": ["61491570156", "+61491570157"]}
    r = await api.post(BLACKLIST, json={"numbers": ["+61491570156"]})
    assert r.status_code == 200  # all already listed
    assert (await api.get(BLACKLIST)).json()["numbers"] == ["+61491570156", "+61491570157"]


@pytest.mark.parametrize(
    "body",
    [{"numbers": [f"+614915701{i:02d}" for i in range(11)]}, {"numbers": []}, {"numbers": ["x"]}],
)
async def test_blacklist_add_limits(api: httpx.AsyncClient, body: dict[str, Any]) -> None:
    r = await api.post(BLACKLIST, json=body)
    assert r.status_code == 400
    assert (await api.get(BLACKLIST)).json()["numbers"] == []


async def test_blacklist_delete_one_number(api: httpx.AsyncClient) -> None:
    await api.post(BLACKLIST, json={"numbers": [HANDSET]})
    r = await api.delete(f"{BLACKLIST}/{HANDSET}")
    assert (r.status_code, r.content) == (200, b"")
    assert (await api.delete(f"{BLACKLIST}/{HANDSET}")).status_code == 404
    assert (await api.get(BLACKLIST)).json()["numbers"] == []


async def test_blacklist_pages_of_100_follow_next_uri(api: httpx.AsyncClient) -> None:
    numbers = [f"+1555{i:07d}" for i in range(250)]
    await api.post("/_emulator/blacklist", json={"numbers": numbers})
    seen: list[str] = []
    doc = (await api.get(BLACKLIST)).json()
    pages = 1
    while "pagination" in doc:
        seen += doc["numbers"]
        doc = (await api.get(doc["pagination"]["next_uri"])).json()
        pages += 1
    seen += doc["numbers"]
    assert pages == 3 and seen == numbers
    assert page_token(2) == "eyJwYWdlIjoyfQ"  # the spec's example token
    assert (await api.get(BLACKLIST, params={"token": "%%%"})).status_code == 400


async def test_a_reply_to_an_unknown_message_is_refused(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/_emulator/replies",
        json={"source_number": HANDSET, "content": "hi", "message_id": str(uuid.uuid4())},
    )
    assert r.status_code == 404
    (m,) = await send(api, message("+61491570158"))
    r = await api.post(
        "/_emulator/replies",
        json={"source_number": HANDSET, "content": "hi", "message_id": m["message_id"]},
    )
    assert r.status_code == 400  # that message went to another number


async def test_an_unsolicited_text_has_no_message_id(api: httpx.AsyncClient) -> None:
    answer = await handset_replies(api, "hello?", destination_number=OUR_NUMBER)
    assert answer["message_id"] is None
    (reply,) = await replies(api)
    assert "message_id" not in reply
    assert reply["destination_number"] == OUR_NUMBER
