"""SIP_ANSWER: when a call is answered (200 OK), while its bot is still starting."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from audio_utils import read_wav, speech_match
from bots import Recorder, make_bot
from pipecat_sip.config import ANSWER_IMMEDIATELY, ANSWER_WHEN_READY

pytestmark = pytest.mark.usefixtures("c_parts")

# the bot takes this long before it creates its transport (services connecting, say)
BOT_START_S = 1.5


@pytest.mark.parametrize("answer", [ANSWER_WHEN_READY, ANSWER_IMMEDIATELY])
async def test_answer_mode(answer, sip_server, baresip, audio):
    rec = Recorder()
    echo_bot = make_bot(rec, echo=True)
    states: list[str] = []

    async def slow_bot(runner_args) -> None:
        await asyncio.sleep(BOT_START_S / 2)
        states.append(runner_args.call.state)
        await asyncio.sleep(BOT_START_S / 2)
        await echo_bot(runner_args)

    srv = await sip_server(slow_bot, answer=answer)
    caller = baresip(srv.uri, audio.speech, seconds=30)
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.disconnected.wait(), 40)
    await asyncio.wait_for(r.finished.wait(), 15)
    await caller.wait(3)
    assert caller.established, caller.log[-2000:]
    assert r.error is None, r.error

    # Half-way through the bot's start the call rings, or is answered and acknowledged.
    expected = "ringing" if answer == ANSWER_WHEN_READY else "active"
    assert states == [expected], states

    # The bot echoes the caller once it runs. Answered when ready, it heard the first
    # word; answered at once, what came before its pipeline ran was dropped (a live
    # source that is not playing drops what arrives), and the echo is the live audio.
    sent, _ = read_wav(audio.speech)
    heard, _ = read_wav(caller.heard_wav)
    m = speech_match(sent, heard)
    print(f"answer={answer}: {m}")
    assert m.ok, f"heard audio does not match sent: {m}"
    if answer == ANSWER_WHEN_READY:
        assert m.good_fraction >= 0.9 and m.lag >= 0, m


async def test_a_bot_that_rejects_an_answered_call_hangs_it_up(sip_server, baresip, audio):
    # A screening bot written for when-ready (reject() before the answer) under
    # SIP_ANSWER=immediately: the call is up already, so it ends with a BYE.
    rejected = asyncio.Event()

    async def screening_bot(runner_args) -> None:
        runner_args.call.reject(403)
        rejected.set()

    srv = await sip_server(screening_bot, answer=ANSWER_IMMEDIATELY)
    caller = baresip(srv.uri, audio.speech, seconds=30)
    await asyncio.wait_for(rejected.wait(), 15)
    await caller.wait_call_end(10)
    log = caller.log
    await caller.wait(3)
    assert caller.established, log[-2000:]
    # hung up within 10 s of a 30 s call, by the server (a BYE), not refused
    assert re.search(r"terminated \(duration|session closed", log), log[-2000:]
    assert "403" not in log, log[-2000:]


async def test_max_duration_counts_from_the_early_answer(sip_server, baresip, audio):
    # SIP_MAX_DURATION=2 with a bot that takes 2.5 s to start: the agent counts from
    # the 200 OK, sent before the bot started, and ends the call before the bot's
    # pipeline runs; the bot's transport reports it at once (counting from when a
    # pipeline takes the call, it would end 4.5 s after the answer).
    rec = Recorder()
    echo_bot = make_bot(rec, echo=True)
    entered: list[float] = []

    async def slow_bot(runner_args) -> None:
        entered.append(time.monotonic())  # after the answer
        await asyncio.sleep(2.5)
        await echo_bot(runner_args)

    srv = await sip_server(slow_bot, answer=ANSWER_IMMEDIATELY, max_duration=2)
    caller = baresip(srv.uri, audio.speech, seconds=30)
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.disconnected.wait(), 15)
    await asyncio.wait_for(r.finished.wait(), 15)
    await caller.wait(3)
    assert r.end_reason == "max-duration", r.end_reason
    ended_after = r.disconnected_at - entered[0]
    assert ended_after < 4, f"ended {ended_after:.1f} s after the answer"


async def test_a_caller_who_hangs_up_before_the_bot_starts(sip_server, baresip, audio):
    # SIP_ANSWER=immediately: the caller hangs up (BYE) 2 s into the call, while the
    # bot is still starting. Once it does start, its transport reports the call over
    # at once, the bot ends, and no pipeline is left running.
    from pipecat_sip import media

    rec = Recorder()
    echo_bot = make_bot(rec, echo=True)
    states: list[str] = []

    async def slow_bot(runner_args) -> None:
        await asyncio.sleep(4)
        states.append(runner_args.call.state)
        await echo_bot(runner_args)

    srv = await sip_server(slow_bot, answer=ANSWER_IMMEDIATELY)
    caller = baresip(srv.uri, audio.speech, seconds=2)
    [r] = await rec.wait_for_calls(1, 15)
    started = time.monotonic()
    await asyncio.wait_for(r.disconnected.wait(), 5)
    await asyncio.wait_for(r.finished.wait(), 10)
    await caller.wait(3)
    assert caller.established, caller.log[-2000:]
    assert r.error is None, r.error
    assert states == ["ended"], states
    assert r.end_reason == "remote-bye", r.end_reason
    assert r.disconnected_at - started < 2, "the bot was told late that the call ended"
    assert srv.server.active_calls == 0
    assert not [m for m in media._live if not m._stopped]


@pytest.mark.parametrize("limit_from", ["server", "bot"])
async def test_max_duration_ends_a_call_whose_bot_never_starts(limit_from, sip_server, baresip,
                                                               audio):
    # SIP_ANSWER=immediately, a 2 s limit (SIP_MAX_DURATION, or set by the bot on its
    # call), and a bot stuck before it creates its transport: no sipsrc ever runs for
    # the call; the agent hangs up on its own timer, and the runner cancels the bot
    # when it does not end within about 5 s.
    release = asyncio.Event()
    cancelled = asyncio.Event()
    entered: list[float] = []
    calls = []

    async def stuck_bot(runner_args) -> None:
        entered.append(time.monotonic())
        calls.append(runner_args.call)
        if limit_from == "bot":
            runner_args.call.max_duration = 2
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    srv = await sip_server(stuck_bot, answer=ANSWER_IMMEDIATELY,
                           max_duration=2 if limit_from == "server" else 0)
    caller = baresip(srv.uri, audio.speech, seconds=30)
    try:
        deadline = time.monotonic() + 15
        while not (calls and calls[0].ended) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        [call] = calls
        assert call.ended, "the call outlived SIP_MAX_DURATION"
        ended_after = time.monotonic() - entered[0]
        assert 1.5 <= ended_after < 3.5, f"ended {ended_after:.1f} s after the answer"
        assert call.end_reason == "max-duration", call.end_reason
        await caller.wait_call_end(5)
        log = caller.log
        assert caller.established, log[-2000:]
        assert re.search(r"terminated \(duration|session closed", log), log[-2000:]
        await asyncio.wait_for(cancelled.wait(), 10)
        # once the cancelled bot's call is released, it still says when it was answered
        deadline = time.monotonic() + 5
        while call.sip_call is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert call.sip_call is None, "the call was not released"
        # (the 200 OK is queued before the bot starts, but the agent's thread may send
        # it a little after)
        assert call.answered_at is not None and abs(call.answered_at - entered[0]) < 1.0
    finally:
        release.set()
        await caller.wait(3)
