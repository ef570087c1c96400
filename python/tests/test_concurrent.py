"""Five concurrent calls, each with its own bot and pipeline, none hearing another."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from audio_utils import align, read_wav, speech_match
from bots import Recorder, make_bot

pytestmark = pytest.mark.usefixtures("c_parts")

VOICES = ["alpha", "bravo", "charlie", "delta", "echo"]


async def test_five_concurrent_calls_without_cross_talk(sip_server, baresip, audio):
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=16000, echo=True))

    callers = {}
    for i, name in enumerate(VOICES):
        callers[name] = baresip(srv.uri, audio.get(name), seconds=40, user=f"caller{i}")
    records = await rec.wait_for_calls(len(VOICES), 30)
    # All five are up at the same time.
    await asyncio.wait_for(asyncio.gather(*(r.connected.wait() for r in records)), 20)
    ups = [r.connected_at for r in records]
    assert all(r.disconnected_at is None for r in records), "a call ended before all were up"
    print(f"all {len(records)} calls up within {max(ups) - min(ups):.2f} s")

    await asyncio.wait_for(asyncio.gather(*(r.finished.wait() for r in records)), 60)
    for c in callers.values():
        await c.wait(5)

    assert len({r.call.call_id for r in records}) == len(VOICES)
    assert len({r.transport.media.name for r in records}) == len(VOICES), "pipelines were shared"
    for r in records:
        assert r.error is None, r.error
        assert r.end_reason == "remote-bye"
        assert r.transport.media.pipeline is None

    sent = {name: read_wav(audio.get(name))[0] for name in VOICES}
    matrix = np.zeros((len(VOICES), len(VOICES)))
    for i, name in enumerate(VOICES):
        caller = callers[name]
        assert caller.established, caller.log[-2000:]
        heard = read_wav(caller.heard_wav)[0]
        for j, other in enumerate(VOICES):
            matrix[i, j] = align(sent[other], heard).correlation
    print("heard (rows) vs sent (columns) correlation:\n" + np.array2string(matrix, precision=2))
    for i, name in enumerate(VOICES):
        m = speech_match(sent[name], read_wav(callers[name].heard_wav)[0])
        assert m.ok, f"{name} did not hear itself clearly: {m}"
        others = [matrix[i, j] for j in range(len(VOICES)) if j != i]
        assert max(others) < 0.3, f"{name} heard another caller: {others}"
