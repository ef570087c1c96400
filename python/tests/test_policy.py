"""Server policy from the settings reaches the SIP agent: call limit and trusted sources."""

from __future__ import annotations

import asyncio

import pytest

from bots import Recorder, make_bot

pytestmark = pytest.mark.usefixtures("c_parts")


async def test_max_calls_busy_here(sip_server, baresip, audio):
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000), max_calls=1)
    first = baresip(srv.uri, audio.silence_wav, seconds=20, user="first")
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.connected.wait(), 10)
    second = baresip(srv.uri, audio.silence_wav, seconds=20, user="second")
    await second.wait_call_end(15)
    assert "486" in second.log, second.log[-2000:]
    assert len(rec.records) == 1, "the second call reached a bot"
    await r.worker.cancel()
    await asyncio.wait_for(r.finished.wait(), 10)
    await first.wait(3)


async def test_untrusted_source_forbidden(sip_server, baresip, audio):
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000), allowed_sources=["127.0.0.2/32"])
    caller = baresip(srv.uri, audio.silence_wav, seconds=20)
    await caller.wait_call_end(15)
    assert "403" in caller.log, caller.log[-2000:]
    await asyncio.sleep(0.5)
    assert rec.records == [], "an untrusted call reached a bot"
