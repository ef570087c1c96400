"""A real call (baresip) through a Pipecat echo pipeline: heard audio matches sent audio."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest
from pipecat.frames.frames import Frame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from audio_utils import align, read_wav, speech_match
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
    # baresip records from the first packet it receives: the echo itself when it
    # comes before sipsink's keep-alive silence starts (60 ms + latency)
    assert 0 <= m.lag < 8000, f"implausible echo delay {m.lag / 8} ms"

    # The call's media pipeline was torn down with the Pipecat pipeline.
    assert r.transport.media is not None
    assert r.transport.media.pipeline is None


class LoopStaller(FrameProcessor):
    """Blocks the event loop for ``stall_ms`` every ``every`` frames: a busy process."""

    def __init__(self, stall_ms: int, every: int, **kwargs):
        super().__init__(**kwargs)
        self._stall = stall_ms / 1000
        self._every = every
        self._frames = 0
        self.stalls = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame):
            self._frames += 1
            if self._frames % self._every == 0:
                time.sleep(self._stall)  # deliberately blocking: the loop falls behind
                self.stalls += 1
        await self.push_frame(frame, direction)


async def test_echo_delay_does_not_grow_when_the_loop_falls_behind(sip_server, baresip, audio, tmp_path):
    # The loop stalls longer than a frame, again and again; the audio queued ahead
    # in GStreamer covers it, and the caller's delay stays where it was. (Sending
    # late audio in a burst to catch up was tried: the caller's jitter buffer then
    # grows instead, 40 -> 120 ms here.)
    source = tmp_path / "long.wav"
    # five sentences, then 2 s of silence: the call ends when the file does
    subprocess.run(["sox", audio.speech, audio.alpha, audio.bravo, audio.charlie, audio.delta,
                    source, "pad", "0", "2"], check=True)
    rec = Recorder()
    staller = LoopStaller(stall_ms=70, every=12)  # 70 ms of every 480 ms
    srv = await sip_server(make_bot(rec, echo=True, processors=lambda _rec: [staller]))

    caller = baresip(srv.uri, source, seconds=40)
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.disconnected.wait(), 50)
    await asyncio.wait_for(r.finished.wait(), 15)
    await caller.wait(3)
    assert caller.established, caller.log[-2000:]
    assert staller.stalls >= 25, staller.stalls

    sent, _ = read_wav(source)
    heard, _ = read_wav(caller.heard_wav)

    def delay_of(start_s: float) -> tuple[float, float]:
        # echo delay (ms) of the 3 s of sent audio from start_s on, and how well it matched
        a = int(start_s * 8000)
        m = align(sent[a : a + 3 * 8000], heard)
        return (m.lag - a) / 8, m.correlation

    first, first_r = delay_of(1.0)
    last, last_r = delay_of(len(sent) / 8000 - 6.0)
    print(f"echo delay first {first:.0f} ms (r={first_r:.2f}), last {last:.0f} ms "
          f"(r={last_r:.2f}) after {staller.stalls} stalls")
    assert first_r >= 0.8 and last_r >= 0.8, (first_r, last_r)
    assert last - first < 100, f"the echo fell {last - first:.0f} ms behind"
