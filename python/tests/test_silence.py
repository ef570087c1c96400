"""Keep-alive silence on a real call: while the bot says nothing, the caller still
receives one RTP packet of μ-law silence every 20 ms (trunks and NATs drop silent
calls), in one stream with consecutive sequence numbers and timestamps; with
``audio_out_auto_silence=False`` it receives no RTP at all.

The silence is sent by ``sipsink`` (``send-silence``), not by Python: the bot here
never writes audio. dumpcap records what arrives at the caller's (baresip's) ports.
"""

from __future__ import annotations

import asyncio

import pytest

from audio_utils import read_pcap_rtp, rms, ulaw_decode
from bots import Recorder, make_bot
from conftest import free_udp_range

pytestmark = pytest.mark.usefixtures("c_parts")

QUIET_SECS = 2.0


@pytest.mark.parametrize("auto_silence", [True, False])
async def test_a_quiet_bot_keeps_rtp_flowing_with_silence(auto_silence, sip_server, baresip,
                                                            capture, audio):
    rec = Recorder()
    srv = await sip_server(make_bot(rec, params={"audio_out_auto_silence": auto_silence}))
    lo, hi = free_udp_range(20)
    cap = await capture(f"udp and dst portrange {lo}-{hi}")
    caller = baresip(srv.uri, audio.silence_wav, seconds=30, rtp_range=(lo, hi))
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.connected.wait(), 10)
    await asyncio.sleep(QUIET_SECS)
    await r.worker.cancel()
    await asyncio.wait_for(r.finished.wait(), 15)
    await cap.stop()
    await caller.wait(3)

    assert caller.established, caller.log[-2000:]
    assert r.transport.media is not None and r.transport.media.bytes_pushed == 0
    packets = [p for p in read_pcap_rtp(cap.path) if p.pt == 0]
    if not auto_silence:
        assert not packets, f"{len(packets)} RTP packets sent with audio_out_auto_silence=False"
        return

    # 50 packets a second from shortly after the ACK until the bot ended
    assert len(packets) >= QUIET_SECS * 50 * 0.8, len(packets)
    assert len({p.ssrc for p in packets}) == 1
    assert all(len(p.payload) == 160 for p in packets)
    assert max(rms(ulaw_decode(p.payload)) for p in packets) < 0.001
    for a, b in zip(packets, packets[1:]):
        assert (b.seq - a.seq) % 65536 == 1, (a.seq, b.seq)
        assert (b.ts - a.ts) % (1 << 32) == 160, (a.ts, b.ts)
