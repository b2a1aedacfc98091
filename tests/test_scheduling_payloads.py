"""WeCom request bodies per slot: add_msg_template and add_moment_task shapes and limits."""

from __future__ import annotations

from copilot.scheduling.calendars import Attachment
from copilot.scheduling.payloads import build_payload

LINK = Attachment(msgtype="link", title="本周权益", url="https://example.invalid/h5")


def _payload(**kw):
    args = {
        "channel": "group",
        "content": "您好，本周权益已上线。",
        "verdict": "pass",
        "post_format": "text",
        "attachments": [],
        "chat_ids": [],
        "tags": [],
    }
    args.update(kw)
    return build_payload(**args)


def test_group_send_body() -> None:
    p = _payload(chat_ids=["wrA", "wrB"], attachments=[LINK])
    assert p["api"] == "add_msg_template" and p["submittable"] is True
    body = p["body"]
    assert body["chat_type"] == "group"
    assert body["chat_id_list"] == ["wrA", "wrB"]
    assert body["text"] == {"content": "您好，本周权益已上线。"}
    assert body["attachments"] == [
        {"msgtype": "link", "link": {"title": "本周权益", "url": "https://example.invalid/h5"}}
    ]
    assert "sender" in p["fill_in"] and "chat_id_list" not in p["fill_in"]


def test_one_to_one_body_leaves_customers_to_the_sidebar() -> None:
    p = _payload(channel="one_to_one")
    assert p["body"]["chat_type"] == "single"
    assert p["body"]["external_userid"] == []
    assert set(p["fill_in"]) == {"sender", "external_userid"}


def test_moments_body_and_visible_range() -> None:
    p = _payload(channel="moments", tags=["tag1"], post_format="video")
    assert p["api"] == "add_moment_task"
    assert p["body"]["text"]["content"]
    assert p["body"]["visible_range"] == {"external_contact_list": {"tag_list": ["tag1"]}}
    assert "video" in p["media_todo"]  # a video post still needs its media uploaded


def test_blocked_post_has_no_body() -> None:
    p = _payload(verdict="block")
    assert p["submittable"] is False
    assert "body" not in p
    assert p["errors"]


def test_limits_make_the_payload_unsubmittable() -> None:
    long_moment = _payload(channel="moments", content="字" * 2001)
    assert long_moment["submittable"] is False and "2000" in long_moment["errors"][0]
    assert _payload(channel="moments", content="字" * 2000)["submittable"] is True
    # 4,000 bytes of UTF-8 is 1,333 Chinese characters
    assert _payload(content="字" * 1334)["submittable"] is False
    assert _payload(content="字" * 1333)["submittable"] is True
    ten = [Attachment(msgtype="image", pic_url=f"https://example.invalid/{i}.png") for i in range(10)]
    assert _payload(attachments=ten)["submittable"] is False
    assert _payload(attachments=ten[:9])["submittable"] is True
    mixed = [ten[0], LINK]
    assert _payload(channel="moments", attachments=mixed)["submittable"] is False
    assert _payload(channel="moments", attachments=[LINK, LINK])["submittable"] is False
