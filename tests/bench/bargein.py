#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Barge-in flush time of the two Python systems (issue 5), one call at a time.

The bot (``echo_bot.py --bot bargein``) starts a long utterance (a 400 Hz tone) when
the call is up; Silero VAD, with the same settings on both transports, hears the
caller and the bot interrupts itself. The caller here waits for one second of the
bot's tone, then speaks (espeak-ng speech, 8 kHz u-law) and records when the last
packet holding the tone arrives. flush time = that arrival - start of the caller's
speech: VAD start time + interruption + the audio each transport had queued.

- ``--system sip``: a minimal SIP caller (INVITE/ACK/BYE, 20 ms PCMU RTP) to
  ``pipecat_sip_echo.py --bot bargein``;
- ``--system ws``: a Twilio Media Streams client to ``pipecat_ws_echo.py --bot bargein``.

Without ``--target`` the server is started here (in the project's .venv) and stopped
after the runs. The last stdout line is one JSON object::

    {"system": "pipecat_sip", "flush_ms": {"p50": ..., "p99": ...}, "runs": 5, ...}

    .venv/bin/python tests/bench/bargein.py --system sip --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ws_loadgen import (  # noqa: E402
    FRAME_BYTES,
    _table,
    connected_message,
    media_message,
    new_sids,
    percentile,
    start_message,
    stop_message,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SILENCE = audioop.lin2ulaw(bytes(FRAME_BYTES * 2), 2)
TONE = _table(lambda v: abs(v) > 2000)  # the bot's tone is at +-8000
TONE_MIN_SAMPLES = 10  # per packet, to count as bot audio
WAIT_TONE_S = 1.0  # bot audio heard before the caller speaks
AFTER_S = 3.0  # listening after the caller started speaking


def speech_ulaw() -> bytes:
    """About 2 s of speech as 8 kHz u-law (espeak-ng + sox, Debian packages)."""
    with tempfile.TemporaryDirectory() as d:
        wav, wav8 = os.path.join(d, "s.wav"), os.path.join(d, "s8.wav")
        subprocess.run(["espeak-ng", "-w", wav, "hello, hello, can you hear me? stop talking please"],
                       check=True, capture_output=True)
        subprocess.run(["sox", wav, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        "-t", "raw", wav8], check=True, capture_output=True)
        pcm = Path(wav8).read_bytes()
    ulaw = audioop.lin2ulaw(pcm, 2)
    return ulaw[: len(ulaw) - len(ulaw) % FRAME_BYTES]


class Listener:
    """Notes the arrival of packets that hold the bot's tone."""

    def __init__(self) -> None:
        self.tone_since: float | None = None  # start of the current run of tone packets
        self.last_tone = 0.0
        self.packets = 0

    def audio(self, ulaw: bytes) -> None:
        now = time.monotonic()
        self.packets += 1
        if ulaw.translate(TONE).count(1) >= TONE_MIN_SAMPLES:
            if self.tone_since is None or now - self.last_tone > 0.1:
                self.tone_since = now
            self.last_tone = now

    def tone_for(self) -> float:
        now = time.monotonic()
        if self.tone_since is None or now - self.last_tone > 0.1:
            return 0.0
        return now - self.tone_since


async def speak_and_measure(send, listener: Listener, speech: bytes) -> float | None:
    """Send silence until the bot has spoken a while, then speech; return flush ms.

    Args:
        send: ``async send(ulaw_frame)`` for one 20 ms frame.
        listener: Sees what comes back.
        speech: Caller speech, u-law.
    """
    loop = asyncio.get_running_loop()
    period = 0.02
    next_t = loop.time()
    deadline = next_t + 15
    wait_extra = random.uniform(0, 0.5)  # not always at the same point of a chunk
    t0 = None
    i = 0
    while True:
        now = time.monotonic()
        if t0 is None:
            if listener.tone_for() >= WAIT_TONE_S + wait_extra:
                t0 = now
            elif loop.time() > deadline:
                print("bargein: the bot never spoke", file=sys.stderr)
                return None
        if t0 is not None:
            if now - t0 >= AFTER_S:
                break
            frame = speech[i * FRAME_BYTES:(i + 1) * FRAME_BYTES] or SILENCE
            i += 1
        else:
            frame = SILENCE
        await send(frame)
        next_t += period
        await asyncio.sleep(max(0.0, next_t - loop.time()))
    if listener.last_tone >= t0 + AFTER_S - 0.2:
        print("bargein: the bot did not stop", file=sys.stderr)
        return None
    return (listener.last_tone - t0) * 1000


# ---------------------------------------------------------------- SIP caller


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, on_data):
        self.on_data = on_data

    def datagram_received(self, data, addr):
        self.on_data(data, addr)


def _sdp_media(sdp: str) -> tuple[str, int]:
    c = re.search(r"^c=IN IP[46] (\S+)", sdp, re.M)
    m = re.search(r"^m=audio (\d+) ", sdp, re.M)
    if not c or not m:
        raise RuntimeError("no media in the SDP answer")
    return c.group(1), int(m.group(1))


async def sip_run(host: str, port: int, speech: bytes) -> float | None:
    """One SIP call: INVITE/ACK, barge in, BYE."""
    loop = asyncio.get_running_loop()
    responses: asyncio.Queue = asyncio.Queue()
    listener = Listener()

    def on_sip(data: bytes, addr) -> None:
        text = data.decode("utf-8", "replace")
        if text.startswith("SIP/2.0"):
            responses.put_nowait(text)
        elif text.startswith("BYE") or text.startswith("OPTIONS"):
            # Answer in-dialog requests 200 (copy Via, From, To, Call-ID, CSeq).
            hdrs = [ln for ln in text.split("\r\n") if re.match(r"(?i)(via|v|from|f|to|t|call-id|i|cseq):", ln)]
            sip_t.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(hdrs) + "\r\nContent-Length: 0\r\n\r\n").encode(), addr)

    def on_rtp(data: bytes, _addr) -> None:
        if len(data) > 12 and data[1] & 0x7F == 0:
            cc = data[0] & 0x0F
            listener.audio(data[12 + 4 * cc:])

    sip_t, _ = await loop.create_datagram_endpoint(lambda: _Udp(on_sip), local_addr=("127.0.0.1", 0))
    rtp_t, _ = await loop.create_datagram_endpoint(lambda: _Udp(on_rtp), local_addr=("127.0.0.1", 0))
    lport = sip_t.get_extra_info("sockname")[1]
    rport = rtp_t.get_extra_info("sockname")[1]
    call_id, tag = uuid.uuid4().hex, uuid.uuid4().hex[:10]
    sdp = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           f"m=audio {rport} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n")
    uri = f"sip:bot@{host}:{port}"
    frm = f"<sip:bargein@127.0.0.1:{lport}>;tag={tag}"

    def request(method: str, ruri: str, to: str, cseq: int, body: str = "") -> bytes:
        lines = [
            f"{method} {ruri} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport",
            "Max-Forwards: 70",
            f"From: {frm}",
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:bargein@127.0.0.1:{lport}>",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    try:
        invite = request("INVITE", uri, f"<{uri}>", 1, sdp)
        ok = None
        for _ in range(8):
            sip_t.sendto(invite, (host, port))
            try:
                while True:
                    resp = await asyncio.wait_for(responses.get(), 0.5)
                    code = int(resp.split(" ", 2)[1])
                    if code >= 200:
                        ok = resp
                        break
                break
            except asyncio.TimeoutError:
                if ok is None and not responses.empty():
                    continue
        if ok is None or not ok.startswith("SIP/2.0 200"):
            raise RuntimeError(f"INVITE failed: {ok.splitlines()[0] if ok else 'no answer'}")
        head, _, body = ok.partition("\r\n\r\n")
        to = re.search(r"(?im)^(?:to|t):\s*(.+)$", head).group(1).strip()
        contact = re.search(r"(?im)^(?:contact|m):\s*<?([^>;\s]+)", head)
        target = contact.group(1) if contact else uri
        sip_t.sendto(request("ACK", target, to, 1), (host, port))
        media = _sdp_media(body)

        seq, ts, ssrc = random.randrange(65536), random.randrange(2**32), random.randrange(2**32)

        async def send(frame: bytes) -> None:
            nonlocal seq, ts
            rtp_t.sendto(struct.pack("!BBHII", 0x80, 0, seq, ts, ssrc) + frame, media)
            seq = (seq + 1) & 0xFFFF
            ts = (ts + FRAME_BYTES) & 0xFFFFFFFF

        result = await speak_and_measure(send, listener, speech)
        sip_t.sendto(request("BYE", target, to, 2), (host, port))
        try:
            await asyncio.wait_for(responses.get(), 2)
        except asyncio.TimeoutError:
            pass
        return result
    finally:
        sip_t.close()
        rtp_t.close()


# ---------------------------------------------------------------- websocket caller


async def ws_run(host: str, port: int, speech: bytes) -> float | None:
    """One Twilio Media Streams call: connected/start, barge in, stop."""
    import base64

    from websockets.asyncio.client import connect

    listener = Listener()
    stream_sid, call_sid = new_sids()
    async with connect(f"ws://{host}:{port}/ws", compression=None, ping_interval=None) as ws:
        await ws.send(connected_message())
        await ws.send(start_message(stream_sid, call_sid))

        async def receive() -> None:
            async for msg in ws:
                m = json.loads(msg)
                if m.get("event") == "media":
                    listener.audio(base64.b64decode(m["media"]["payload"]))

        rx = asyncio.create_task(receive())
        seq = chunk = 2

        async def send(frame: bytes) -> None:
            nonlocal seq, chunk
            seq += 1
            chunk += 1
            await ws.send(media_message(stream_sid, seq, chunk - 2, base64.b64encode(frame).decode()))

        try:
            result = await speak_and_measure(send, listener, speech)
            await ws.send(stop_message(stream_sid, call_sid, seq + 1))
        finally:
            rx.cancel()
        return result


# ---------------------------------------------------------------- driver


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(system: str) -> tuple[subprocess.Popen, int]:
    """Start the system's server in bargein mode; wait for READY."""
    py = str(ROOT / ".venv" / "bin" / "python")
    if system == "sip":
        port = _free_port(socket.SOCK_DGRAM)
        # clear of run.py's ranges (server 20000-27999, sip-loadgen 40000 and up)
        lo = 50000 + 2 * random.randrange(2000)
        cmd = [py, str(HERE / "pipecat_sip_echo.py"), "--port", str(port),
               "--rtp-port-range", f"{lo}-{lo + 99}", "--bot", "bargein"]
    else:
        port = _free_port(socket.SOCK_STREAM)
        cmd = [py, str(HERE / "pipecat_ws_echo.py"), "--port", str(port), "--bot", "bargein"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            break
        if line.strip() == "READY":
            return proc, port
    proc.kill()
    raise RuntimeError(f"{cmd[1]} did not print READY")


async def measure(system: str, host: str, port: int, runs: int) -> list[float | None]:
    """``runs`` calls one after another; the flush time of each (``None``: failed)."""
    speech = speech_ulaw()
    fn = sip_run if system == "sip" else ws_run
    out: list[float | None] = []
    for _ in range(runs):
        try:
            out.append(await asyncio.wait_for(fn(host, port, speech), 40))
        except Exception as e:  # noqa: BLE001 - a failed run is reported, not fatal
            print(f"bargein: run failed: {e!r}", file=sys.stderr)
            out.append(None)
        await asyncio.sleep(0.5)
    return out


def main(argv: list[str] | None = None) -> None:
    """Measure and print the JSON line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", choices=("sip", "ws"), required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--target", help="HOST:PORT of a server already running with --bot bargein")
    args = p.parse_args(argv)
    proc = None
    if args.target:
        host, _, port_s = args.target.rpartition(":")
        port = int(port_s)
    else:
        proc, port = start_server(args.system)
        host = "127.0.0.1"
    try:
        flush = asyncio.run(measure(args.system, host, port, args.runs))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    ok = [f for f in flush if f is not None]
    print(json.dumps({
        "system": "pipecat_sip" if args.system == "sip" else "pipecat_ws",
        "flush_ms": {"p50": round(percentile(ok, 50), 1), "p99": round(percentile(ok, 99), 1)},
        "runs": len(ok),
        "runs_failed": len(flush) - len(ok),
        "all_ms": [None if f is None else round(f, 1) for f in flush],
    }), flush=True)


if __name__ == "__main__":
    main()
