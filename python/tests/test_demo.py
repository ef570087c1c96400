"""The embedded demo bot (python -m pipecat_sip.demo), driven by a recorded utterance:
it answers, greets, repeats what the caller said, and stops talking when interrupted."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import numpy as np
import pytest

from audio_utils import align, pcm16_to_float, read_wav, speech_match, write_wav
from conftest import LOCALHOST, free_udp_port, free_udp_range, proc_env

from pipecat_sip.demo import GREETING, YOU_SAID
from pipecat_sip.speech import render_speech_sync

pytestmark = pytest.mark.usefixtures("c_parts")


async def start_demo(procs, **env_extra):
    port = free_udp_port()
    lo, hi = free_udp_range(40)
    env = proc_env()
    env.update(SIP_SERVER_HOST=LOCALHOST, SIP_SERVER_PORT=str(port),
               SIP_RTP_PORT_RANGE=f"{lo}-{hi}", PYTHONUNBUFFERED="1")
    env.update(env_extra)
    p = procs.start("demo", [sys.executable, "-m", "pipecat_sip.demo", "-v"], env=env,
                    stop_signal=signal.SIGINT)
    uri = f"sip:bot@{LOCALHOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if uri in p.output():
            return p, uri
        if p.poll() is not None:
            pytest.fail(f"demo exited (rc {p.poll()}):\n{p.output()[-3000:]}")
        await asyncio.sleep(0.1)
    pytest.fail(f"demo did not print how to call it ({uri}):\n{p.output()[-3000:]}")


def caller_wav(path, parts):
    """Concatenate (seconds of silence | float samples) parts into an 8 kHz WAV."""
    chunks = [np.zeros(int(x * 8000), np.float32) if isinstance(x, (int, float)) else x for x in parts]
    write_wav(path, np.concatenate(chunks), 8000)
    return path


async def test_demo_answers_greets_and_repeats(procs, baresip, audio, workdir):
    greeting = pcm16_to_float(render_speech_sync(GREETING, 8000))
    you_said = pcm16_to_float(render_speech_sync(YOU_SAID, 8000))
    utterance = read_wav(audio.hello)[0]
    g_secs = len(greeting) / 8000
    wav = caller_wav(workdir / "caller.wav", [g_secs + 1.5, utterance, len(utterance) / 8000 + 4.0])

    demo, uri = await start_demo(procs)
    caller = baresip(uri, wav, seconds=60)
    await caller.wait_call_end(70)  # baresip hangs up when its WAV ends
    assert caller.established, caller.log[-3000:]

    heard = read_wav(caller.heard_wav)[0]
    g = align(greeting, heard)
    y = align(you_said, heard)
    u = align(utterance, heard)
    print(f"greeting r={g.correlation:.3f} at {g.lag / 8000:.2f} s; 'you said' r={y.correlation:.3f} "
          f"at {y.lag / 8000:.2f} s; repeated utterance r={u.correlation:.3f} at {u.lag / 8000:.2f} s")
    assert speech_match(greeting, heard).ok, "the greeting was not heard"
    assert g.lag < 8000, "the greeting came late"
    assert y.correlation >= 0.8, "'You said' was not heard"
    um = speech_match(utterance, heard)
    assert um.ok, f"the caller's words were not repeated back: {um}"
    # The test WAV has 1 s of silence after the speech (make_speech pad_end).
    speech_end = g_secs + 1.5 + len(utterance) / 8000 - 1.0
    assert y.lag / 8000 > speech_end - 0.2, "answered before the caller finished"
    assert y.lag < u.lag

    out = demo.output()
    assert "repeating" in out
    assert "ended (remote-bye)" in out
    # Ctrl-C stops it cleanly.
    demo.stop(grace=15)
    assert demo.popen.returncode == 0, out[-3000:]


async def test_demo_stops_talking_when_interrupted(procs, baresip, audio, workdir):
    greeting = pcm16_to_float(render_speech_sync(GREETING, 8000))
    utterance = read_wav(audio.speech)[0]
    # Speak 2 s into the greeting (which lasts several seconds).
    wav = caller_wav(workdir / "caller.wav", [2.0, utterance, 8.0])

    demo, uri = await start_demo(procs)
    caller = baresip(uri, wav, seconds=60)
    await caller.wait_call_end(70)
    assert caller.established, caller.log[-3000:]

    heard = read_wav(caller.heard_wav)[0]
    start = align(greeting[: 8000], heard)
    end = align(greeting[-3 * 8000:], heard)
    print(f"greeting start r={start.correlation:.3f}, greeting end r={end.correlation:.3f}")
    assert start.correlation >= 0.9, "the greeting did not start"
    assert end.correlation < 0.5, "the greeting went on after the caller spoke"
    out = demo.output()
    assert "interrupting" in out
    demo.stop(grace=15)
