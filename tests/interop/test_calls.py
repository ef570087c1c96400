"""Audio interop: real calls whose audio is checked, through the pipelines/ scripts.

- echo.sh: baresip (a real softphone) calls, speaks a WAV, records what it hears;
  the heard audio must correlate with the speech sent.
- record.sh: sipp sends speech as RTP; the WAV written must be complete and
  correlate with the speech.
- play-prompt.sh: baresip calls; it must hear the prompt, then get a BYE.
- play-and-record.sh: both at once.

Thresholds: normalized correlation after alignment by cross-correlation (1.0 =
identical waveform, unrelated audio ~0), computed per 0.5 s window of speech, each
window aligned on its own, weighted by its energy (audio.compare_segmental). The
echo passes G.711 twice (baresip -> sipsrc -> sipsink -> baresip), a recording or
a prompt once; a clean G.711 round trip of speech correlates at 0.99 or more here.
We require ECHO_MIN_CORRELATION / ONE_WAY_MIN_CORRELATION (0.9), that 85% of the
speech windows were heard, and at most MAX_SLIPS stretches of lost audio: on a
loaded 2-core machine a sender stalled for 200 ms makes the 60 ms jitter buffer
drop the late packets, which shifts everything after by that much; a single
alignment would then score ~0.6 although every packet that arrived was right.
"""

import time

import audio

ECHO_MIN_CORRELATION = 0.9
ONE_WAY_MIN_CORRELATION = 0.9
MAX_SLIPS = 2
EXIT_AFTER_BYE_S = 10


def wav_seconds(path):
    rate, x = audio.read_wav(path)
    return len(x) / rate


def assert_correlates(ref, heard, threshold, what, min_heard=0.85, need_end=False):
    """ref, heard: WAV (or .ulaw) paths. Aligns heard to ref (piecewise, 0.5 s
    windows, see audio.compare_segmental) and checks:
    - the energy-weighted correlation >= threshold,
    - at least min_heard of ref's speech windows were heard (correlation >= 0.9),
    - at most MAX_SLIPS places where a stretch of audio went missing (a jitter
      buffer dropping packets that came late on a loaded machine; more is a bug),
    - need_end: the last speech window of ref was heard (played out before BYE)."""
    seg = audio.compare_segmental(ref, heard)
    print(f"{what}: {seg}")
    assert seg.windows, f"{what}: reference has no speech"
    assert seg.correlation >= threshold, f"{what}: correlation {seg.correlation:.3f} < {threshold}: {seg}"
    assert seg.good_fraction >= min_heard, (
        f"{what}: only {100 * seg.good_fraction:.0f}% of the speech heard: {seg}")
    assert len(seg.slips) <= MAX_SLIPS, f"{what}: {len(seg.slips)} slips: {seg}"
    if need_end:
        t, lag, corr = seg.windows[-1]
        assert corr >= 0.9, f"{what}: the end of the audio (at {t:.1f}s) was not heard: {seg}"
    return seg


def wait_for_log(proc, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.output():
            return True
        if proc.poll() is not None:
            return text in proc.output()
        time.sleep(0.1)
    return False


def test_echo_baresip_hears_itself(server, baresip, audio_files):
    """`make run-echo`'s pipeline: baresip's voice comes back to it."""
    srv = server("echo.sh")
    speech = audio_files.speech_wav
    call = baresip(srv.uri, speech, seconds=int(wav_seconds(speech)) + 10)
    call.wait(40)
    assert call.established, call.log[-3000:]
    # baresip hangs up when its WAV ends: the pipeline gets EOS and exits 0
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "echo pipeline did not exit after the caller's BYE"
    assert_correlates(speech, call.heard_wav, ECHO_MIN_CORRELATION, "echo heard by baresip")
    ended = srv.messages("sip-call-ended")
    assert ended and ended[-1].get("reason") == "remote-bye", ended
    assert "tester" in ended[-1].get("from", ""), ended


def test_record_sipp_speech_to_wav(server, sipp, audio_files, workdir):
    """record.sh: the WAV holds the caller's audio and is finalized at the BYE."""
    out = workdir / "call.wav"
    srv = server("record.sh", out)
    ms = int(len(open(audio_files.speech_ulaw, "rb").read()) / 8)
    r = sipp("call-rtp.xml", srv.port, replace={"@ULAW_FILE@": audio_files.speech_ulaw},
             duration_ms=ms + 300, timeout=40)
    assert r.rc == 0, r.summary()
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "record pipeline did not exit after BYE"
    info = audio.check_wav_file(out)
    print("recording:", info)
    assert info["rate"] == 8000 and info["channels"] == 1 and info["bits"] == 16, info
    assert info["seconds"] >= 0.8 * ms / 1000.0, info
    assert_correlates(audio_files.speech_ulaw, out, ONE_WAY_MIN_CORRELATION, "recording")


def test_record_baresip_call(server, baresip, audio_files, workdir):
    """record.sh with a softphone: what baresip sent (its *-enc.wav) is in the WAV."""
    out = workdir / "call.wav"
    srv = server("record.sh", out)
    call = baresip(srv.uri, audio_files.speech_wav, seconds=int(wav_seconds(audio_files.speech_wav)) + 10)
    call.wait(40)
    assert call.established, call.log[-3000:]
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "record pipeline did not exit after BYE"
    audio.check_wav_file(out)
    assert_correlates(audio_files.speech_wav, out, ONE_WAY_MIN_CORRELATION, "recording")


def test_play_prompt_then_server_hangs_up(server, baresip, audio_files):
    """play-prompt.sh: the caller hears the whole prompt, then gets a BYE."""
    prompt = audio_files.prompt_wav
    srv = server("play-prompt.sh", prompt)
    limit = int(wav_seconds(prompt)) + 15
    # the caller keeps silent (and would stay on the line for 30 s)
    call = baresip(srv.uri, audio_files.silence_wav, seconds=limit)
    ended_by_server = wait_for_log(call.proc, "terminated", limit - 3)
    assert call.established, call.log[-3000:]
    assert ended_by_server, "the call was not hung up after the prompt:\n" + call.log[-3000:]
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "prompt pipeline did not exit after its BYE"
    call.proc.stop()
    assert_correlates(prompt, call.heard_wav, ONE_WAY_MIN_CORRELATION, "prompt heard by baresip",
                      need_end=True)
    ended = srv.messages("sip-call-ended")
    assert ended and ended[-1].get("reason") == "local-bye", ended


def test_play_prompt_caller_hangs_up_first(server, baresip, audio_files):
    """The caller hangs up in the middle of the prompt: the pipeline still ends."""
    srv = server("play-prompt.sh", audio_files.prompt_wav)
    call = baresip(srv.uri, audio_files.silence_wav, seconds=2)
    call.wait(30)
    assert call.established, call.log[-3000:]
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "prompt pipeline did not exit after the caller's BYE"
    ended = srv.messages("sip-call-ended")
    assert ended and ended[-1].get("reason") == "remote-bye", ended


def test_play_and_record(server, baresip, audio_files, workdir):
    """play-and-record.sh: the caller hears the prompt while being recorded; the
    server hangs up after the prompt and the WAV is complete."""
    out = workdir / "call.wav"
    prompt = audio_files.prompt_wav
    srv = server("play-and-record.sh", prompt, out)
    # the caller talks for longer than the prompt lasts
    call = baresip(srv.uri, audio_files.speech_wav, seconds=int(wav_seconds(prompt)) + 15)
    assert wait_for_log(call.proc, "terminated", int(wav_seconds(prompt)) + 12), call.log[-3000:]
    assert call.established, call.log[-3000:]
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "pipeline did not exit after its BYE"
    call.proc.stop()
    assert_correlates(prompt, call.heard_wav, ONE_WAY_MIN_CORRELATION, "prompt heard by baresip",
                      need_end=True)
    info = audio.check_wav_file(out)
    print("recording:", info)
    # the recording holds the part of the caller's speech said before the BYE
    # what baresip said until the BYE (its *-enc.wav, cut to the recording's length)
    rate, sent = audio.read_wav(call.sent_wav)
    seg = audio.compare_segmental(sent[: int(info["seconds"] * rate)], audio.read_wav(out)[1])
    print("recording vs what baresip sent:", seg)
    assert seg.correlation >= ONE_WAY_MIN_CORRELATION, seg
    assert seg.good_fraction >= 0.85 and len(seg.slips) <= MAX_SLIPS, seg
