"""Faults: a lossy, jittery network between caller and server; callers that vanish.

The lossy-network test runs the echo pipeline (pipelines/echo.sh) in one network
namespace and a caller (sipcaller.py: raw SIP over UDP, an RTP sender that jitters and
reorders its packets, a recorder) in another, joined by a veth pair. Each namespace
drops 5 % of the UDP it receives (nftables, input hook) and, besides, the first
INVITE, the first 200 OK and the first ACK (one rule each, counted), so that every
step of the INVITE handshake is shown to recover by retransmission.

The vanished-caller test hands calls from one Sip.Agent whose RTP port range holds a
single port pair to `sipsrc call=... media-timeout=2 ! queue ! sipsink` pipelines
(echo_agent.py): a caller that stops sending and answering is hung up with BYE
("media-timeout" on the bus), and the next call gets the pair and its echo.
"""

import json
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from audio import compare_segmental
from conftest import (HERE, LOCALHOST, PIPELINES, base_env, free_udp_port, free_udp_range,
                      parse_structure_fields, sip_lib_env)
from netns import loss_ruleset, payload_starts

PYTHON = "/usr/bin/python3"
CALLER = HERE / "sipcaller.py"
SIP_PORT = 5060

# Lossy network: the echo heard back must correlate with the speech sent at least
# this much (segmental correlation, tests/interop/audio.py). Measured on this 2-core
# machine (other builds and tests running) with 5 % loss each way, the forced losses,
# 0-60 ms send jitter and 2 % swaps: 0.58-0.84 over 13 runs (mean 0.78; 0.78-0.87
# with a 120 ms jitter buffer). Loss alone costs little (jitter alone on loopback:
# 0.95); most of it is the echo's delay creeping up by 0.1-0.6 s within the call
# under this jitter. A clean loopback call scores 0.9999; a broken echo (sipsink
# before the fix for the late ACK, most audio missing) scored 0.23-0.32. 0.50 sits
# between the worst good run and the best broken one.
LOSSY_MIN_CORRELATION = 0.50
LOSS_PERCENT = 5
JITTER_MS = 30          # each RTP packet leaves 0..2*JITTER_MS late (like netem "delay X 30ms")
REORDER = 0.02          # and is swapped with the next one with this probability


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def bus_messages(proc, name):
    """Element messages `name` that gst-launch -m printed, as field dicts."""
    out = []
    for line in proc.output().splitlines():
        if ("element message" in line or "Got message" in line) and name in line:
            out.append(parse_structure_fields(line.split(name, 1)[1]))
    return out


def test_lossy_jittery_network_call_recovers(netpair, procs, workdir, audio_files):
    a, b = netpair.a, netpair.b
    # Server side drops the first INVITE and the first ACK; caller side the first 200 OK.
    b.nft(loss_ruleset(LOSS_PERCENT, [
        ("first_invite", payload_starts(f"udp dport {SIP_PORT}", "INVITE ")),
        ("first_ack", payload_starts(f"udp dport {SIP_PORT}", "ACK ")),
    ]))
    a.nft(loss_ruleset(LOSS_PERCENT, [
        ("first_200", payload_starts(f"udp sport {SIP_PORT}", "SIP/2.0 200 ")),
    ]))

    env = base_env()
    env.update(SIP_SERVER_HOST=b.ip, SIP_RTP_PORT_RANGE="10000-10099", GST_LAUNCH_OPTS="-m")
    server = procs.start("echo", b.cmd(str(PIPELINES / "echo.sh"), str(SIP_PORT)), env=env,
                         stop_signal=signal.SIGINT)
    _wait(lambda: b.udp_bound(SIP_PORT) or server.poll() is not None, 15, "the echo pipeline")
    assert server.poll() is None, server.output()[-3000:]

    seed = random.randrange(1 << 30)
    heard = workdir / "heard.wav"
    summary_path = workdir / "caller.json"
    caller = procs.start("caller", a.cmd(
        PYTHON, str(CALLER), "--server", f"{b.ip}:{SIP_PORT}", "--local-ip", a.ip,
        "--audio", str(audio_files.speech_wav), "--jitter-ms", str(JITTER_MS),
        "--reorder", str(REORDER), "--seed", str(seed), "--tail", "1.5",
        "--record", str(heard), "--summary", str(summary_path)))
    rc = caller.wait(90)
    assert rc is not None, "caller still running after 90 s"
    assert server.wait(20) is not None, "echo pipeline did not end after the BYE"
    s = json.loads(summary_path.read_text())
    cb, ca = b.nft_counters(), a.nft_counters()
    print(f"seed {seed}; caller: {json.dumps(s, sort_keys=True)}")
    print(f"server-side drops: {cb}; caller-side drops: {ca}")

    assert s["answered"], s["error"]
    # Each forced loss happened once, and the handshake recovered by retransmission:
    # the INVITE by the caller's Timer A, the 200 by the server's 2xx retransmission,
    # the ACK by the caller acknowledging a retransmitted 200.
    assert cb["first_invite"] == 1 and ca["first_200"] == 1 and cb["first_ack"] == 1, (cb, ca)
    assert s["retransmitted"].get("INVITE", 0) >= 1
    assert s["acks_for_retransmitted_200"] >= 1, "the server did not retransmit its 200 OK"
    # and the random loss was really there, in both directions
    assert cb["random_loss"] > 0 and ca["random_loss"] > 0, (cb, ca)
    assert s["rtp_reordered"] > 0

    ended = bus_messages(server, "sip-call-ended")
    # the caller's BYE arrived (its 200 may be lost: the one-shot pipeline has exited)
    assert s["bye_sent"]
    assert ended and ended[-1].get("reason") == "remote-bye", server.output()[-3000:]

    cmp = compare_segmental(audio_files.speech_wav, heard)
    print(f"echo heard: {cmp}")
    assert cmp.correlation >= LOSSY_MIN_CORRELATION, cmp


# ---------------------------------------------------------------- a caller that vanishes

MEDIA_TIMEOUT = 2   # seconds, sipsrc media-timeout in the echo agent


def agent_events(proc):
    """The echo agent's event lines as [(event, call-id, rest)]."""
    out = []
    for line in proc.output().splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("incoming", "answered", "ended", "eos", "released", "error"):
            out.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return out


def test_vanished_caller_is_hung_up_and_its_port_reused(procs, workdir, audio_files):
    port = free_udp_port()
    lo, _ = free_udp_range(2)
    pair = f"{lo}-{lo + 1}"   # exactly one RTP/RTCP pair: one call at a time
    agent = procs.start("echo_agent", [PYTHON, HERE / "echo_agent.py", "--port", port,
                                       "--rtp-port-range", pair, "--media-timeout", MEDIA_TIMEOUT],
                        env=sip_lib_env(), stop_signal=signal.SIGTERM)
    _wait(lambda: "listening" in agent.output() or agent.poll() is not None, 15, "the echo agent")
    assert agent.poll() is None, agent.output()

    def caller(name, *args):
        summary = workdir / f"{name}.json"
        p = procs.start(name, [PYTHON, CALLER, "--server", f"{LOCALHOST}:{port}",
                               "--summary", summary, *args])
        return p, summary

    # 1. a caller that sends speech for 1.5 s, then neither RTP nor any SIP answer
    gone, gone_json = caller("vanishing", "--audio", audio_files.speech_wav,
                             "--vanish-after", "1.5", "--linger", "8")
    _wait(lambda: any(e[0] == "answered" for e in agent_events(agent)), 15, "the first call's answer")
    t_answer = time.monotonic()
    # while it holds the only port pair, another call is refused
    busy, busy_json = caller("busy", "--seconds", "0.5")
    assert busy.wait(30) is not None
    b = json.loads(busy_json.read_text())
    assert b["final_code"] == 503 and "no RTP ports" in b["error"], b

    # 2. the media timeout hangs it up: reason on the bus, pipeline to NULL
    _wait(lambda: any(e[0] == "released" for e in agent_events(agent)), 1.5 + MEDIA_TIMEOUT + 10,
          "the vanished call to be cleaned up")
    took = time.monotonic() - t_answer
    events = agent_events(agent)
    first = events[0][1]
    assert ("ended", first, "media-timeout") in events, events
    # (vanished at 1.5 s; the timeout is checked every second or so)
    assert took < 1.5 + MEDIA_TIMEOUT + 3, f"cleaned up {took:.1f} s after the answer"

    # 3. the next call gets the same (only) port pair and its echo, while the BYE to
    #    the vanished caller may still be retransmitted
    second, second_json = caller("second", "--audio", audio_files.speech_wav,
                                 "--record", workdir / "second.wav")
    assert second.wait(60) is not None
    s2 = json.loads(second_json.read_text())
    assert s2["answered"], s2
    assert s2["remote_media"].endswith(f":{lo}"), s2["remote_media"]
    echo = compare_segmental(audio_files.speech_wav, workdir / "second.wav")
    print(f"second call's echo: {echo}")
    assert echo.correlation >= 0.9, echo

    assert gone.wait(30) is not None
    g = json.loads(gone_json.read_text())
    print(f"vanished caller: {json.dumps(g, sort_keys=True)}")
    # the server said BYE to the caller that vanished, MEDIA_TIMEOUT s after its last RTP
    assert g["byes_received"] >= 1, g
    silent = g["first_bye_received_s"] - g["vanished_at_s"]
    assert MEDIA_TIMEOUT - 0.2 <= silent <= MEDIA_TIMEOUT + 2.5, f"BYE {silent:.2f} s after the last RTP"
    second_id = [e[1] for e in agent_events(agent) if e[0] == "incoming"][-1]
    _wait(lambda: ("released", second_id, "") in agent_events(agent), 10, "the second call to end")
    events = agent_events(agent)
    assert ("ended", second_id, "remote-bye") in events, events
    assert not [e for e in events if e[0] == "error"], events
