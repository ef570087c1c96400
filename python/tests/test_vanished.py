"""Callers that vanish (no BYE, no RTP) and calls that last too long, through the runner.

The caller is tests/interop/sipcaller.py (raw SIP over UDP, Debian's python3): it can
stop sending RTP and stop answering SIP at once, as a phone that lost its network.
SIP_MEDIA_TIMEOUT reaches sipsrc (media-timeout), SIP_MAX_DURATION the agent
(max-call-duration; a bot may change its call's max_duration); the
bot sees the end through on_client_disconnected, and with an RTP port range of one
pair the next call only gets media if the vanished call's port went back to the pool
(it did not, before the media pipeline stopped using Bus.set_sync_handler and the
runner released ended calls).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from bots import Recorder, make_bot
from conftest import LOCALHOST, REPO, free_udp_range

from pipecat_sip.config import SIPConfigError, SIPServerConfig

sys.path.insert(0, str(REPO / "tests" / "interop"))
from audio import compare_segmental  # noqa: E402  (the project's audio comparison tool)

pytestmark = pytest.mark.usefixtures("c_parts")

PYTHON = "/usr/bin/python3"  # Debian's: numpy for the caller
CALLER = REPO / "tests" / "interop" / "sipcaller.py"
MEDIA_TIMEOUT = 2


def test_media_timeout_and_max_duration_settings():
    cfg = SIPServerConfig.from_env({})
    assert (cfg.media_timeout, cfg.max_duration) == (30, 0)
    cfg = SIPServerConfig.from_env({"SIP_MEDIA_TIMEOUT": "5", "SIP_MAX_DURATION": " 3600 "})
    assert (cfg.media_timeout, cfg.max_duration) == (5, 3600)
    assert SIPServerConfig.from_env({"SIP_MEDIA_TIMEOUT": "0"}).media_timeout == 0
    for var, bad in (("SIP_MEDIA_TIMEOUT", "-1"), ("SIP_MEDIA_TIMEOUT", "2.5"),
                     ("SIP_MAX_DURATION", "soon"), ("SIP_MAX_DURATION", "99999999")):
        with pytest.raises(SIPConfigError) as e:
            SIPServerConfig.from_env({var: bad})
        assert e.value.variable == var


def _caller(procs, workdir: Path, name: str, port: int, *args: object) -> tuple:
    summary = workdir / f"{name}.json"
    p = procs.start(name, [PYTHON, CALLER, "--server", f"{LOCALHOST}:{port}",
                           "--service", "bot", "--summary", summary, *args])
    return p, summary


async def _summary(proc, path: Path, timeout: float) -> dict:
    assert await proc.wait(timeout) is not None, f"{proc.name} still running:\n{proc.output()[-2000:]}"
    return json.loads(path.read_text())


async def _vanish(sip_server, procs, workdir, audio, rec: Recorder) -> tuple:
    """A one-pair server; a caller that vanishes 1.5 s after the answer. Returns
    (server, first port, record of the call, vanished caller process, its summary)."""
    lo, _ = free_udp_range(2)
    srv = await sip_server(make_bot(rec, sample_rate=8000, echo=True),
                           rtp_port_range=(lo, lo + 1), media_timeout=MEDIA_TIMEOUT)
    gone, gone_json = _caller(procs, workdir, "vanishing", srv.port, "--audio", audio.speech,
                              "--vanish-after", "1.5", "--linger", "6")
    [r1] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r1.connected.wait(), 10)
    # the range holds one pair: while the first call has it, another caller gets 503
    busy, busy_json = _caller(procs, workdir, "busy", srv.port, "--seconds", "0.5")
    b = await _summary(busy, busy_json, 30)
    assert b["final_code"] == 503 and "no RTP ports" in b["error"], b

    # MEDIA_TIMEOUT s after its last RTP: BYE, and the bot sees the end
    await asyncio.wait_for(r1.disconnected.wait(), 1.5 + MEDIA_TIMEOUT + 5)
    assert r1.end_reason == "media-timeout", r1.end_reason
    took = r1.disconnected_at - r1.connected_at
    print(f"vanished call ended {took:.2f} s after it connected")
    assert 1.5 + MEDIA_TIMEOUT - 0.3 <= took <= 1.5 + MEDIA_TIMEOUT + 3
    await asyncio.wait_for(r1.finished.wait(), 10)
    assert r1.error is None, r1.error
    assert r1.transport.media.pipeline is None, "the call's pipeline is still alive"
    assert r1.call.ended and r1.call.end_reason == "media-timeout"
    return srv, lo, r1, gone, gone_json


async def test_vanished_caller_is_hung_up(sip_server, procs, workdir, audio):
    srv, _, _, gone, gone_json = await _vanish(sip_server, procs, workdir, audio, Recorder())
    g = await _summary(gone, gone_json, 30)
    print(f"vanished caller: {json.dumps(g, sort_keys=True)}")
    assert g["byes_received"] >= 1, "the server sent no BYE to the vanished caller"
    assert srv.server.active_calls == 0


async def test_vanished_callers_port_serves_the_next_call(sip_server, procs, workdir, audio):
    rec = Recorder()
    srv, lo, r1, _, _ = await _vanish(sip_server, procs, workdir, audio, rec)
    # once bot() returned, the runner lets go of the library's call (this test's
    # record still refers to the SIPCall): its port pair goes back to the pool
    deadline = time.monotonic() + 5
    while r1.call.sip_call is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert r1.call.sip_call is None, "the runner still holds the ended call"
    assert r1.call.end_reason == "media-timeout" and r1.call.ended
    second, second_json = _caller(procs, workdir, "second", srv.port, "--audio", audio.speech,
                                  "--record", workdir / "second.wav")
    s2 = await _summary(second, second_json, 60)
    assert s2["answered"], s2
    assert s2["remote_media"].endswith(f":{lo}"), s2["remote_media"]
    echo = compare_segmental(audio.speech, workdir / "second.wav")
    print(f"second call's echo through the bot: {echo}")
    assert echo.correlation >= 0.9, echo
    [_, r2] = await rec.wait_for_calls(2, 5)
    await asyncio.wait_for(r2.finished.wait(), 10)
    assert r2.end_reason == "remote-bye"


async def test_max_duration_hangs_up(sip_server, procs, workdir, audio):
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000, echo=True), max_duration=2)
    caller, caller_json = _caller(procs, workdir, "long", srv.port, "--audio", audio.speech,
                                  "--seconds", "10")
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.connected.wait(), 10)
    t0 = time.monotonic()
    await asyncio.wait_for(r.disconnected.wait(), 8)
    print(f"max-duration BYE {time.monotonic() - t0:.2f} s after connecting")
    assert r.end_reason == "max-duration", r.end_reason
    await asyncio.wait_for(r.finished.wait(), 10)
    s = await _summary(caller, caller_json, 30)
    assert s["byes_received"] >= 1 and not s["bye_sent"], s


async def test_a_bot_sets_its_calls_max_duration(sip_server, procs, workdir, audio):
    # no SIP_MAX_DURATION; the bot gives its own call 1 s (SIPCall.max_duration): the
    # agent hangs up 1 s after the answer
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000, echo=True))
    caller, caller_json = _caller(procs, workdir, "limited", srv.port, "--audio", audio.speech,
                                  "--seconds", "10")
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.connected.wait(), 10)
    assert r.call.max_duration == 0
    r.call.max_duration = 1
    assert r.call.max_duration == 1
    await asyncio.wait_for(r.disconnected.wait(), 5)
    lasted = time.monotonic() - r.call.answered_at
    assert 0.8 <= lasted < 3, f"hung up {lasted:.2f} s after the answer"
    assert r.end_reason == "max-duration", r.end_reason
    await asyncio.wait_for(r.finished.wait(), 10)
    s = await _summary(caller, caller_json, 30)
    assert s["byes_received"] >= 1 and not s["bye_sent"], s
