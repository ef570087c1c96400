"""RFC 4733 DTMF from a real caller (sipp playing the telephone-event captures shipped
with sip-tester) arrives in Pipecat as InputDTMFFrame with the right digits."""

from __future__ import annotations

import asyncio

import pytest

from bots import Recorder, make_bot
from conftest import SIPP_PCAP_DIR

pytestmark = pytest.mark.usefixtures("c_parts")

# sipp replays the captures with their own RTP sequence numbers and timestamps, so
# the digits are played in the order of their captures' sequence numbers (a capture
# with an older sequence number would be a late packet to the jitter buffer).
DIGITS = [("1", "1"), ("5", "5"), ("9", "9"), ("star", "*"), ("pound", "#"), ("0", "0")]

HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="pipecat_sip DTMF">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "DTMF caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      X-Customer-Id: 4711
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20
      a=sendrecv

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "DTMF caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="800"/>
"""

DIGIT = """
  <nop>
    <action>
      <exec play_pcap_audio="{pcap}"/>
    </action>
  </nop>
  <pause milliseconds="600"/>
"""

TAIL = """
  <pause milliseconds="500"/>
  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "DTMF caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:sipp@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"""


def scenario() -> str:
    body = "".join(DIGIT.format(pcap=SIPP_PCAP_DIR / f"dtmf_2833_{name}.pcap") for name, _ in DIGITS)
    return HEAD + body + TAIL


async def test_dtmf_becomes_input_dtmf_frames(sip_server, sipp):
    for name, _ in DIGITS:
        assert (SIPP_PCAP_DIR / f"dtmf_2833_{name}.pcap").exists(), "sip-tester DTMF pcaps missing"
    rec = Recorder()
    srv = await sip_server(make_bot(rec, sample_rate=8000))
    p = sipp(scenario(), srv.port, timeout=60, service="support")
    [r] = await rec.wait_for_calls(1, 15)
    await asyncio.wait_for(r.disconnected.wait(), 40)
    await asyncio.wait_for(r.finished.wait(), 15)
    rc = await p.wait(20)
    assert rc == 0, f"sipp failed (rc {rc}):\n{p.output()[-3000:]}"

    assert r.error is None, r.error
    assert r.dtmf == [d for _, d in DIGITS], f"got {r.dtmf}"
    assert r.end_reason == "remote-bye"

    # The call details reached the bot.
    call = r.call
    assert call.to_user == "support"
    assert call.from_user == "+15550001111"
    assert call.caller.display_name == "DTMF caller"
    assert call.get_header("X-Customer-Id") == "4711"
    assert call.headers.get("x-customer-id") == "4711"
    assert call.remote_address.startswith("127.0.0.1:")
    assert call.call_id
