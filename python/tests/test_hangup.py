"""Ending calls: EndFrame (BYE after playout), CancelFrame (BYE now), caller hang-up."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from audio_utils import align, pcm16_to_float, read_wav
from bots import EndFrame, Recorder, make_bot, tts_frames

from pipecat_sip.speech import render_speech_sync

pytestmark = pytest.mark.usefixtures("c_parts")

PROMPT = "This prompt is played to the end, and then the bot hangs up the call. Goodbye."


def active_seconds(x: np.ndarray, rate: int, threshold: float = 0.02) -> float:
    frame = rate // 50
    k = len(x) // frame
    if k == 0:
        return 0.0
    e = np.sqrt(np.mean(x[: k * frame].reshape(k, frame) ** 2, axis=1))
    return float(np.count_nonzero(e > threshold)) / 50.0


async def test_end_frame_hangs_up_after_playout(sip_server, baresip, audio):
    prompt = render_speech_sync(PROMPT, 8000)
    prompt_secs = len(prompt) / 2 / 8000

    async def on_connected(rec, worker, transport):
        rec.extra["queued_at"] = time.monotonic()
        await worker.queue_frames([*tts_frames(prompt, 8000), EndFrame()])

    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000, on_connected=on_connected))
    caller = baresip(srv.uri, audio.silence_wav, seconds=30)
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.disconnected.wait(), 30)
    await asyncio.wait_for(r.finished.wait(), 15)

    assert r.error is None, r.error
    assert r.end_reason == "local-bye", f"call ended with {r.end_reason}"
    took = r.disconnected_at - r.extra["queued_at"]
    print(f"prompt {prompt_secs:.2f} s, BYE {took:.2f} s after queueing it")
    # Not before the prompt has played, not long after.
    assert took >= prompt_secs - 0.1, "hung up before the prompt was played out"
    assert took < prompt_secs + 3.0, "hung up long after the prompt ended"

    await caller.wait(3)
    heard = read_wav(caller.heard_wav)[0]
    ref = pcm16_to_float(prompt)
    whole = align(ref, heard)
    tail = align(ref[-8000:], heard)  # the last second of the prompt was heard too
    print(f"prompt correlation {whole.correlation:.3f}, last second {tail.correlation:.3f}")
    assert whole.correlation >= 0.9
    assert tail.correlation >= 0.85
    assert abs(tail.lag - (whole.lag + len(ref) - 8000)) < 80, "the end of the prompt is misplaced"
    assert "terminated" in caller.log or "closed" in caller.log, caller.log[-2000:]


async def test_cancel_frame_hangs_up_at_once(sip_server, baresip, audio):
    long_prompt = render_speech_sync(" ".join([PROMPT] * 4), 8000)

    async def on_connected(rec, worker, transport):
        await worker.queue_frames(tts_frames(long_prompt, 8000))

        async def cancel_later():
            await asyncio.sleep(1.5)
            rec.extra["cancelled_at"] = time.monotonic()
            await worker.cancel()

        rec.extra["task"] = asyncio.create_task(cancel_later())

    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000, on_connected=on_connected))
    caller = baresip(srv.uri, audio.silence_wav, seconds=30)
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.finished.wait(), 30)
    await asyncio.wait_for(r.disconnected.wait(), 10)

    assert r.error is None, r.error
    assert r.end_reason == "local-bye"
    took = r.disconnected_at - r.extra["cancelled_at"]
    print(f"BYE {took * 1000:.0f} ms after CancelFrame")
    assert took < 1.0
    assert r.transport.media.pipeline is None

    await caller.wait(3)
    heard = read_wav(caller.heard_wav)[0]
    secs = active_seconds(heard, 8000)
    print(f"caller heard {secs:.2f} s of the {len(long_prompt) / 16000:.1f} s prompt")
    assert 0.5 < secs < 3.0


async def test_caller_hangup_ends_the_pipeline(sip_server, baresip, audio):
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=16000, echo=True))
    caller = baresip(srv.uri, audio.hello, seconds=30)  # hangs up when its WAV ends
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.connected.wait(), 10)
    await asyncio.wait_for(r.disconnected.wait(), 30)
    # on_client_disconnected cancels the worker: the bot returns promptly.
    await asyncio.wait_for(r.finished.wait(), 10)
    await caller.wait(3)

    assert r.error is None, r.error
    assert r.end_reason == "remote-bye"
    assert r.finished_at - r.disconnected_at < 5
    media = r.transport.media
    assert media.pipeline is None, "GStreamer pipeline still alive"
    assert media.ended
    assert r.call.ended
    # The server dropped the call (a new call would get fresh state).
    assert r.call.call_id not in srv.server._calls
