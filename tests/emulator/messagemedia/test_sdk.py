"""The official Python SDK (messagemedia-messages-sdk 2.1.3), pointed at the emulator on a real
socket, sends, reads status, checks and confirms replies and delivery reports, with Basic and
with its own HMAC scheme."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from engage_desktop.emulator.messagemedia import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    MessageMediaEmulator,
    Settings,
)
from engage_desktop.emulator.server import EmulatorThread
from tests.emulator.messagemedia.helpers import HANDSET, OUR_NUMBER

client_module = pytest.importorskip(
    "message_media_messages.message_media_messages_client",
    reason="messagemedia-messages-sdk is not installed (pip install messagemedia-messages-sdk)",
)
from message_media_messages.configuration import Configuration  # noqa: E402
from message_media_messages.exceptions.api_exception import APIException  # noqa: E402
from message_media_messages.models.confirm_delivery_reports_as_received_request import (  # noqa: E402
    ConfirmDeliveryReportsAsReceivedRequest,
)
from message_media_messages.models.confirm_replies_as_received_request import (  # noqa: E402
    ConfirmRepliesAsReceivedRequest,
)
from message_media_messages.models.message import Message  # noqa: E402
from message_media_messages.models.send_messages_request import SendMessagesRequest  # noqa: E402

_CONFIGURED = (
    "base_uri",
    "basic_auth_user_name",
    "basic_auth_password",
    "hmac_auth_user_name",
    "hmac_auth_password",
)


@pytest.fixture(scope="module")
def live() -> Iterator[EmulatorThread]:
    # No waiting between statuses: the SDK's calls are blocking, the clock is the real one.
    settings = Settings(enroute_after_s=0, submitted_after_s=0, delivered_after_s=0)
    with EmulatorThread(MessageMediaEmulator(settings)) as thread:
        yield thread


@pytest.fixture(params=["basic", "hmac"])
def sdk_client(request: pytest.FixtureRequest, live: EmulatorThread) -> Iterator[Any]:
    """The SDK's client (untyped, hence Any). Its configuration is class-level global state:
    set per test and put back afterwards."""
    httpx.post(f"{live.url}/_emulator/reset").raise_for_status()
    saved = {name: getattr(Configuration, name) for name in _CONFIGURED}
    Configuration.base_uri = live.url
    Configuration.basic_auth_user_name = Configuration.basic_auth_password = None
    Configuration.hmac_auth_user_name = Configuration.hmac_auth_password = None
    yield client_module.MessageMediaMessagesClient(
        DEMO_API_KEY, DEMO_API_SECRET, use_hmac_authentication=request.param == "hmac"
    )
    for name in _CONFIGURED:
        setattr(Configuration, name, saved[name])


def test_send_status_replies_and_reports_round_trip(sdk_client: Any, live: EmulatorThread) -> None:
    body = SendMessagesRequest(
        messages=[
            Message(
                content="Spring sale!",
                destination_number=HANDSET,
                source_number=OUR_NUMBER,
                delivery_report=True,
                metadata={"campaign": "spring"},
            )
        ]
    )
    (sent,) = sdk_client.messages.send_messages(body).messages
    assert sent.status == "queued" and len(sent.message_id) == 36

    status = sdk_client.messages.get_message_status(sent.message_id)
    assert status.status == "delivered"
    assert status.metadata == {"campaign": "spring"}

    httpx.post(
        f"{live.url}/_emulator/replies", json={"source_number": HANDSET, "content": "STOP"}
    ).raise_for_status()
    (reply,) = sdk_client.replies.check_replies().replies
    assert (reply.content, reply.message_id) == ("STOP", sent.message_id)
    assert (reply.source_number, reply.destination_number) == (HANDSET, OUR_NUMBER)
    assert reply.vendor_account_id.vendor_id == "SinchEU"

    found = sdk_client.delivery_reports.check_delivery_reports().delivery_reports
    assert [d.status for d in found] == ["enroute", "submitted", "delivered"]
    assert found[0].date_received is not None  # parsed by the SDK as a date-time

    sdk_client.delivery_reports.confirm_delivery_reports_as_received(
        ConfirmDeliveryReportsAsReceivedRequest(
            delivery_report_ids=[d.delivery_report_id for d in found]
        )
    )
    sdk_client.replies.confirm_replies_as_received(
        ConfirmRepliesAsReceivedRequest(reply_ids=[reply.reply_id])
    )
    assert sdk_client.delivery_reports.check_delivery_reports().delivery_reports == []
    assert sdk_client.replies.check_replies().replies == []

    counters = httpx.get(f"{live.url}/_emulator/counters").json()
    assert counters["blacklisted"] == 1  # the STOP
    assert counters["requests"]["ConfirmRepliesAsReceived"] == {"202": 1}


def test_sdk_sees_the_documented_errors(sdk_client: Any) -> None:
    with pytest.raises(APIException) as missing:
        sdk_client.messages.get_message_status("877c19ef-fa2e-4cec-827a-e1df9b5509f7")
    assert missing.value.response_code == 404
    bad = SendMessagesRequest(messages=[Message(content="hi", destination_number="12ab")])
    with pytest.raises(APIException) as invalid:
        sdk_client.messages.send_messages(bad)
    assert invalid.value.response_code == 400
    Configuration.basic_auth_password = Configuration.hmac_auth_password = "wrong"
    with pytest.raises(APIException) as denied:
        sdk_client.replies.check_replies()
    assert denied.value.response_code == 401
