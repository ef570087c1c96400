"""A real call (baresip) through a Pipecat echo pipeline: heard audio matches sent audio."""

from __future__ import annotations

import asyncio

import pytest

from audio_utils import read_wav, speech_match
from bots import Recorder, make_bot

pytestmark = pytest.mark.usefixtures("c_parts")


# frame_ms None: SIPParams' default audio_in_frame_ms (40 ms)
@pytest.mark.parametrize("rate,frame_ms", [(8000, None), (16000, 20)])
async def test_echo_heard_matches_sent(rate, frame_ms, sip_server, baresip, audio):
    rec = Recorder()
    params = {} if frame_ms is None else {"audio_in_frame_ms": frame_ms}
    srv = await sip_server(make_bot(rec, sample_rate=rate, echo=True, params=params))

    caller = baresip(srv.uri, audio.speech, seconds=30)
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.connected.wait(), 10)
    # The call ends when baresip's WAV ends: it hangs up (BYE).
    await asyncio.wait_for(r.disconnected.wait(), 40)
    await asyncio.wait_for(r.finished.wait(), 15)
    await caller.wait(3)

    assert r.error is None, r.error
    assert caller.established, caller.log[-2000:]
    assert r.end_reason == "remote-bye"
    # Input came at the pipeline's rate (resampled by GStreamer).
    assert r.input_rates == {rate}
    assert r.input_bytes > rate * 2 * 3  # more than 3 s of caller audio
    # Every input frame is exactly audio_in_frame_ms long.
    assert r.input_sizes == {rate * (frame_ms or 40) // 1000 * 2}, r.input_sizes

    sent, sent_rate = read_wav(audio.speech)
    heard, heard_rate = read_wav(caller.heard_wav)
    assert sent_rate == heard_rate == 8000
    m = speech_match(sent, heard)
    print(f"echo at {rate} Hz: {m}")
    assert m.ok, f"heard audio does not match sent: {m}"
    assert 0 < m.lag < 8000, f"implausible echo delay {m.lag / 8} ms"

    # The call's media pipeline was torn down with the Pipecat pipeline.
    assert r.transport.media is not None
    assert r.transport.media.pipeline is None
