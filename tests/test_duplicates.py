"""An update Telegram delivers twice (a getUpdates batch fetched again, a webhook retry)
is handled once: the repeat is acknowledged and ignored."""

from __future__ import annotations

import json
import re
import signal
from datetime import timedelta

import aiohttp
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from bot.double import BotApiDouble
from storage.db import session_scope
from storage.models import Department, InboxUpdate, Invite, Liaison
from storage.people import create_invite, redeem_invite
from tests.harness import COORDINATOR_ID, Harness
from tests.test_report import DONE, SUBMIT, open_month, start_item, stored
from tests.test_run_modes import TOKEN, free_port, listening, start_bot, stop, wait_for

LINK = re.compile(r"https://t\.me/huibao_test_bot\?start=([A-Za-z0-9_-]+)")
ERROR = "出了问题"


def invites(harness: Harness) -> int:
    with session_scope(harness.engine) as db:
        return db.exec(select(func.count()).select_from(Invite)).one()


async def test_a_pasted_item_delivered_twice_is_added_once(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 6001, "王芳")
    await start_item(liaison, "团的制度建设")
    before = len(liaison.messages)
    replies = await liaison.send("上报团中央的制度汇编", deliveries=2)
    # One new screen (the one before it only loses its buttons), showing the item once.
    assert len(liaison.messages) == before + 1, replies.texts
    assert replies.last.text.count("上报团中央的制度汇编") == 1
    await liaison.tap(DONE, deliveries=2)
    await liaison.send("收集兄弟省市的做法", deliveries=2)
    await liaison.tap(DONE)
    replies = await liaison.tap(SUBMIT, deliveries=2)
    assert not any(ERROR in text for text in replies.texts)
    submission = stored(harness, "团的制度建设", "org")
    assert submission.progress == ["上报团中央的制度汇编"]
    assert submission.plan == ["收集兄弟省市的做法"]
    assert submission.version == 1
    assert not any(ERROR in m.text for m in liaison.messages)


async def test_an_invite_redeemed_twice_binds_without_already_used(harness: Harness) -> None:
    token = harness.invite_token("office")
    liaison = harness.double.user(6002, "刘洋")
    replies = await liaison.send(f"/start {token}", deliveries=2)
    assert len(replies) == 1
    assert "绑定成功" in replies[0].text
    assert not any("已经使用过" in m.text for m in liaison.messages)
    with session_scope(harness.engine) as db:
        bound = db.exec(select(Liaison).where(Liaison.telegram_id == 6002)).one()
        assert bound.active


async def test_invite_twice_creates_one_link(harness: Harness) -> None:
    coordinator = harness.coordinator()
    replies = await coordinator.send("/invite org", deliveries=2)
    assert len(replies) == 1 and LINK.search(replies[0].text)
    assert invites(harness) == 1


async def test_a_tap_delivered_twice_gets_no_error(harness: Harness) -> None:
    liaison = await harness.liaison("office", 6003, "陈静")
    await liaison.send("/lang")
    replies = await liaison.tap("English", deliveries=2)
    assert replies.answer is not None
    assert len(replies) == 1 and "English" in replies[0].text
    assert not any("went wrong" in m.text or ERROR in m.text for m in liaison.messages)


async def test_a_repeat_after_a_restart_is_ignored(harness: Harness) -> None:
    """The ids are in the database: a bot restarted before Telegram knew it had the update
    still does not handle it again."""
    coordinator = harness.coordinator()
    await coordinator.send("/invite org")
    update_id = harness.double.last_update_id
    await harness.restart()
    before = len(coordinator.messages)
    harness.double.redeliver(update_id)
    await harness.double.settle()
    assert len(coordinator.messages) == before
    assert invites(harness) == 1
    with session_scope(harness.engine) as db:
        stored = db.get(InboxUpdate, update_id)
        assert stored is not None and stored.handled_at is not None


async def test_a_button_no_flow_knows_is_answered_quietly(harness: Harness) -> None:
    """A tap on an old message's button (data no flow uses any more), twice: a short note on
    the tap, no message, no error."""
    liaison = await harness.liaison("office", 6004, "黄磊")
    menu = (await liaison.send("/lang"))[0]
    for deliveries in (1, 2):
        query_id = harness.double.new_callback_query(liaison.state, menu, "old:1")
        body = {
            "callback_query": {
                "id": query_id,
                "from": liaison.to_json(),
                "message": harness.double.message_json(menu),
                "chat_instance": "1",
                "data": "old:1",
            }
        }
        replies = await harness.double.act(liaison.id, body, deliveries=deliveries)
        answer = harness.double.callback_answer(query_id)
        assert answer is not None and "失效" in (answer.text or "")
        assert not answer.show_alert
        assert len(replies) == 0
    assert not any(ERROR in m.text for m in liaison.messages)


async def test_a_webhook_retry_is_handled_once(engine: Engine) -> None:
    """Telegram posts an update again when the bot's answer to the webhook request got
    lost: `huibao run` in webhook mode handles it once."""
    port = free_port()
    async with BotApiDouble(token=TOKEN) as double:
        url = f"http://127.0.0.1:{port}/hook"
        secret = "s3cret-token"
        process = await start_bot(
            double, engine, WEBHOOK_URL=url, WEBHOOK_SECRET=secret, WEBHOOK_PORT=str(port)
        )
        try:
            await wait_for(lambda: double.calls_to("setWebhook"))
            await wait_for(lambda: listening(port))
            coordinator = double.user(COORDINATOR_ID, "李明")
            invite = double.user_message(COORDINATOR_ID, coordinator.state, {"text": "/invite org"})
            after = double.user_message(COORDINATOR_ID, coordinator.state, {"text": "/whoami"})
            headers = {
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": secret,
            }
            async with aiohttp.ClientSession() as http:
                for update in ({"update_id": 7, "message": invite},) * 2 + (
                    {"update_id": 8, "message": after},
                ):
                    async with http.post(url, data=json.dumps(update), headers=headers) as response:
                        assert response.status == 200
            # One user's updates are handled in order: once /whoami is answered, the repeat
            # of /invite has been dealt with.
            await wait_for(
                lambda: any("身份" in m.text for m in double.messages_in(COORDINATOR_ID))
            )
            links = [m for m in double.messages_in(COORDINATOR_ID) if LINK.search(m.text)]
            assert len(links) == 1
            assert len(double.messages_in(COORDINATOR_ID)) == 2
        finally:
            await stop(process, signal.SIGTERM)
        assert not double.violations


WHOAMI = "/whoami"


def handled_updates(engine: Engine) -> int:
    with session_scope(engine) as db:
        return db.exec(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.handled_at.is_not(None))  # type: ignore[union-attr]
        ).one()


async def test_five_hundred_updates_each_delivered_twice_are_handled_once(
    harness: Harness,
) -> None:
    """Polling: every update comes twice in the getUpdates batches, and after a restart
    the whole lot is fetched again, as Telegram does when the offset was never confirmed."""
    people = [harness.coordinator()] + [
        await harness.liaison(code, 6100 + n, f"联络员{n}")
        for n, code in enumerate(("org", "office", "intl", "rights"))
    ]
    before = {p.id: len(p.messages) for p in people}
    ids = []
    for _ in range(100):
        for person in people:
            message = harness.double.user_message(person.id, person.state, {"text": WHOAMI})
            ids.append(harness.double.queue_update({"message": message}, deliveries=2))
    await harness.double.settle(timeout=120)
    await harness.restart()
    for update_id in ids:
        harness.double.redeliver(update_id)
    await harness.double.settle(timeout=120)
    for person in people:
        answers = person.messages[before[person.id] :]
        assert len(answers) == 100, (person.id, len(answers))
    with session_scope(harness.engine) as db:
        rows = db.exec(select(InboxUpdate).where(InboxUpdate.update_id.in_(ids))).all()  # type: ignore[attr-defined]
    assert len(rows) == 500 and all(row.handled_at is not None for row in rows)


def bind_liaisons(engine: Engine, count: int, first_id: int) -> list[int]:
    """`count` liaisons bound to the example roster's departments in turn."""
    with session_scope(engine) as db:
        departments = db.exec(select(Department).order_by(Department.position)).all()
        for n in range(count):
            token = create_invite(
                db, departments[n % len(departments)], ttl=timedelta(days=1), created_by="test"
            )
            redeem_invite(db, token, telegram_id=first_id + n, name=f"联络员{n}")
    return [first_id + n for n in range(count)]


async def test_five_hundred_webhook_retries_are_handled_once(engine: Engine) -> None:
    """Webhook: every update is posted twice, as Telegram does when the answer to its
    request did not come in time; `huibao run` answers each once. 50 liaisons send 10
    each (one chat gets about one message a second, as Telegram allows)."""
    port = free_port()
    async with BotApiDouble(token=TOKEN) as double:
        url = f"http://127.0.0.1:{port}/hook"
        process = await start_bot(
            double, engine, WEBHOOK_URL=url, WEBHOOK_SECRET="s3cret", WEBHOOK_PORT=str(port)
        )
        try:
            ids = bind_liaisons(engine, 50, 6200)
            await wait_for(lambda: double.calls_to("setWebhook"))
            people = [double.user(i, f"联络员{i}") for i in ids]
            for _ in range(10):
                for person in people:
                    message = double.user_message(person.id, person.state, {"text": WHOAMI})
                    double.queue_update({"message": message}, deliveries=2)

            def answered() -> int:
                return sum(len(double.messages_in(i)) for i in ids)

            await wait_for(lambda: answered() >= 500, timeout=120)
            await wait_for(lambda: handled_updates(engine) >= 500, timeout=30)
            await double.settle(timeout=30)
            assert [len(double.messages_in(i)) for i in ids] == [10] * 50
            assert handled_updates(engine) == 500
        finally:
            await stop(process, signal.SIGTERM)
        assert not double.webhook_errors
        assert not double.violations
