"""Onboarding through the Bot API test double: invites, strangers, roles, menus."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.harness import Harness

LINK = re.compile(r"https://t\.me/huibao_test_bot\?start=([A-Za-z0-9_-]+)")


async def test_invite_bind_refuse_and_whoami(harness: Harness) -> None:
    coordinator = harness.coordinator()
    replies = await coordinator.send("/invite org")
    match = LINK.search(replies[-1].text)
    assert match, replies[-1].text
    token = match.group(1)
    assert "组织部" in replies[-1].text

    stranger = harness.double.user(5001, "路人")
    replies = await stranger.send("你好")
    assert "仅供" in replies[-1].text
    replies = await stranger.send("/invite org")  # a stranger is told what the bot is
    assert "仅供各部门联络员和协调员" in replies[-1].text
    assert "t.me" not in replies[-1].text

    liaison = harness.double.user(2001, "王芳")
    replies = await liaison.send(f"/start {token}")
    assert "绑定成功" in replies[-1].text and "组织部" in replies[-1].text

    late = harness.double.user(2002, "张三")
    replies = await late.send(f"/start {token}")
    assert "已经使用过" in replies[-1].text
    replies = await late.send("/whoami")
    assert "未登记" in replies[-1].text

    expired = harness.invite_token("office", ttl=timedelta(seconds=-1))
    replies = await late.send(f"/start {expired}")
    assert "已过期" in replies[-1].text

    replies = await late.send("/start not-a-real-token")
    assert "无效" in replies[-1].text

    replies = await liaison.send("/whoami")
    assert "组织部" in replies[-1].text and "联络员" in replies[-1].text
    replies = await coordinator.send("/whoami")
    assert "协调员" in replies[-1].text


async def test_command_menus_differ_by_role(harness: Harness) -> None:
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    liaison = await harness.liaison("office", 2101, "刘洋")

    liaison_menu = {c for c, _ in harness.double.commands(scope_type="chat", chat_id=2101)}
    coordinator_menu = {
        c for c, _ in harness.double.commands(scope_type="chat", chat_id=coordinator.id)
    }
    default_menu = {c for c, _ in harness.double.commands(scope_type="default")}
    assert "report" in liaison_menu and "compile" not in liaison_menu
    assert "compile" in coordinator_menu and "invite" in coordinator_menu
    assert "report" not in coordinator_menu
    assert default_menu == {"start", "help", "lang"}
    assert liaison is not None


async def test_help_differs_by_role(harness: Harness) -> None:
    liaison = await harness.liaison("office", 2201, "陈静")
    coordinator = harness.coordinator()
    stranger = harness.double.user(5002, "访客")
    liaison_help = (await liaison.send("/help"))[-1].text
    coordinator_help = (await coordinator.send("/help"))[-1].text
    stranger_help = (await stranger.send("/help"))[-1].text
    assert "/report" in liaison_help and "/compile" not in liaison_help
    assert "/compile" in coordinator_help and "/invite" in coordinator_help
    assert "/report" not in stranger_help and "/compile" not in stranger_help


async def test_english_users_read_english(harness: Harness) -> None:
    stranger = harness.double.user(5003, "Visitor", language_code="en")
    replies = await stranger.send("hello")
    assert "liaisons and coordinators only" in replies[-1].text
    liaison = await harness.liaison("intl", 2301, "Alex", language_code="en")
    assert "registered as the liaison" in liaison.messages[-1].text


async def test_language_can_be_changed(harness: Harness) -> None:
    liaison = await harness.liaison("office", 2401, "周敏")
    replies = await liaison.send("/lang")
    assert replies[-1].buttons == ["中文", "English"]
    replies = await liaison.tap("English")
    assert "English" in replies[-1].text
    replies = await liaison.send("/whoami")
    assert "Role: liaison" in replies[-1].text
    replies = await liaison.send("/lang zh")
    assert "中文" in replies[-1].text


async def test_roles_survive_a_restart(harness: Harness) -> None:
    liaison = await harness.liaison("office", 2501, "黄磊")
    await harness.restart()
    replies = await liaison.send("/whoami")
    assert "办公室" in replies[-1].text
