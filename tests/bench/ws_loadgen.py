#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Twilio Media Streams load generator for the websocket reference (issue 5).

Opens ``--calls`` websocket "calls" to ``ws://TARGET/ws``, each speaking the Twilio
Media Streams protocol as Twilio does (``connected``, ``start``, a ``media`` message
with 20 ms of base64 u-law every 20 ms, ``stop``), and measures what comes back.

The caller audio is silence with a 20 ms loud burst (the marker) once a second; a
burst survives u-law decode/encode and any re-chunking, so the echo delay is the time
from sending a marker to receiving the first returned packet that holds it. Loss is
1 - (audio received / audio sent) over the steady window, which starts once every
call is up and lasts ``--duration`` seconds: the window's frames are marked by their
sign (positive inside, negative outside), so window edges, re-chunking and silence
inserted by the server do not count.

stdout: ``ALL_UP n``, ``STEADY_START``, ``STEADY_END`` as the run goes (as
sip-loadgen prints them), then one JSON object as the last line (the benchmark
contract)::

    .venv/bin/python tests/bench/ws_loadgen.py --calls 50 --duration 20 --target 127.0.0.1:8765
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import sys
import time
import uuid
import warnings
from collections import deque
from dataclasses import dataclass, field

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # Python 3.11: u-law in C (removed in 3.13)

FRAME_MS = 20
FRAME_BYTES = 160  # 20 ms of 8 kHz u-law
MARKER_EVERY = 50  # frames: one marker a second
LOUD_THRESHOLD = 10000  # |sample| above this is the marker (silence is 0)



def _ulaw_frame(value: int) -> bytes:
    return audioop.lin2ulaw(value.to_bytes(2, "little", signed=True) * FRAME_BYTES, 2)


def _table(pred) -> bytes:
    # u-law byte -> 1 where pred(decoded sample) else 0: bytes.translate + count/find
    # then classify a whole payload in C.
    return bytes(
        1 if pred(int.from_bytes(audioop.ulaw2lin(bytes([b]), 2), "little", signed=True)) else 0
        for b in range(256)
    )


# Frames sent inside the steady window are positive, those outside negative, and
# silence a server inserts is zero: counting the positive samples that come back
# counts exactly the window's audio, whatever the chunking and the delay. G.711
# decode/encode keeps the sign and the level.
QUIET_LEVEL = 500
IN_WINDOW = {False: _ulaw_frame(-QUIET_LEVEL), True: _ulaw_frame(QUIET_LEVEL)}
MARKER = {False: _ulaw_frame(-20000), True: _ulaw_frame(20000)}
POSITIVE = _table(lambda v: v > QUIET_LEVEL // 2)
LOUD = _table(lambda v: abs(v) > LOUD_THRESHOLD)
SILENCE = _ulaw_frame(0)
PAYLOAD_B64 = {
    (marker, window): base64.b64encode((MARKER if marker else IN_WINDOW)[window]).decode()
    for marker in (False, True)
    for window in (False, True)
}


def connected_message() -> str:
    """Twilio's first message on a Media Stream."""
    return json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start_message(stream_sid: str, call_sid: str) -> str:
    """Twilio's ``start`` message (what ``parse_telephony_websocket`` reads).

    Args:
        stream_sid: The stream SID (``MZ...``).
        call_sid: The call SID (``CA...``).
    """
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "accountSid": "AC" + "0" * 32,
                "streamSid": stream_sid,
                "callSid": call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {},
            },
            "streamSid": stream_sid,
        }
    )


def media_message(stream_sid: str, seq: int, chunk: int, payload_b64: str) -> str:
    """A Twilio ``media`` message carrying 20 ms of u-law.

    Args:
        stream_sid: The stream SID.
        seq: Message sequence number.
        chunk: Media chunk number (from 1).
        payload_b64: Base64 u-law audio.
    """
    return (
        f'{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound",'
        f'"chunk":"{chunk}","timestamp":"{(chunk - 1) * FRAME_MS}","payload":"{payload_b64}"}},'
        f'"streamSid":"{stream_sid}"}}'
    )


def stop_message(stream_sid: str, call_sid: str, seq: int) -> str:
    """Twilio's ``stop`` message."""
    return json.dumps(
        {
            "event": "stop",
            "sequenceNumber": str(seq),
            "stop": {"accountSid": "AC" + "0" * 32, "callSid": call_sid},
            "streamSid": stream_sid,
        }
    )


def new_sids() -> tuple[str, str]:
    """A fresh (stream SID, call SID) pair."""
    return "MZ" + uuid.uuid4().hex, "CA" + uuid.uuid4().hex


def _say(line: str) -> None:
    # Progress lines for the driver (it samples the server between STEADY_START/END).
    print(line, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    v = sorted(values)
    k = max(0, min(len(v) - 1, math.ceil(p / 100 * len(v)) - 1))
    return v[k]


@dataclass
class Call:
    """One websocket call and what was measured on it."""

    index: int
    stream_sid: str = ""
    call_sid: str = ""
    ws: object | None = None
    up: bool = False
    failed: bool = False
    closed: bool = False
    setup_ms: float = 0.0
    seq: int = 1
    chunk: int = 0
    sent_window: int = 0
    recv_samples_window: int = 0
    markers: deque = field(default_factory=deque)  # (send time, in window) of markers
    delays_ms: list[float] = field(default_factory=list)
    quiet_until: float = 0.0  # ignore the rest of a marker already seen


class LoadGen:
    """N concurrent Twilio Media Streams calls driven by one 20 ms ticker."""

    def __init__(self, host: str, port: int, calls: int, duration: float, ramp: float):
        """Configure the run.

        Args:
            host: Server host.
            port: Server HTTP port.
            calls: Concurrent calls.
            duration: Seconds of steady media after every call is up.
            ramp: New connections per second while setting up.
        """
        self.url = f"ws://{host}:{port}/ws"
        self.calls = [Call(i) for i in range(calls)]
        self.duration = duration
        self.ramp = ramp
        self.window = False
        self.late_ticks = 0

    async def _open(self, call: Call) -> None:
        from websockets.asyncio.client import connect

        call.stream_sid, call.call_sid = new_sids()
        t0 = time.monotonic()
        try:
            ws = await asyncio.wait_for(
                connect(self.url, compression=None, ping_interval=None, max_queue=None), 10
            )
            await ws.send(connected_message())
            await ws.send(start_message(call.stream_sid, call.call_sid))
        except Exception as e:  # noqa: BLE001 - counted as a failed call
            print(f"call {call.index}: connect failed: {e}", file=sys.stderr)
            call.failed = True
            return
        call.setup_ms = (time.monotonic() - t0) * 1000
        call.ws = ws
        call.seq = 3
        call.up = True
        asyncio.get_running_loop().create_task(self._receive(call))

    async def _receive(self, call: Call) -> None:
        ws = call.ws
        loads, b64decode, loud, positive = json.loads, base64.b64decode, LOUD, POSITIVE
        try:
            async for msg in ws:  # type: ignore[attr-defined]
                now = time.monotonic()
                m = loads(msg)
                if m.get("event") != "media":
                    continue
                audio = b64decode(m["media"]["payload"])
                call.recv_samples_window += audio.translate(positive).count(1)
                if now < call.quiet_until:
                    continue
                i = audio.translate(loud).find(1)
                if i < 0:
                    continue
                call.quiet_until = now + 0.5
                sent = None
                while call.markers and call.markers[0][0] <= now:
                    sent = call.markers.popleft()
                if sent is not None and sent[1]:
                    call.delays_ms.append((now - sent[0]) * 1000)
        except Exception as e:  # noqa: BLE001
            if not call.closed:
                print(f"call {call.index}: receive failed: {e}", file=sys.stderr)
        if not call.closed:
            call.failed = True
            call.up = False

    async def _tick(self, call: Call) -> None:
        # One 20 ms frame for one call (the sends of a tick are not awaited in turn).
        call.chunk += 1
        marker = (call.chunk + call.index) % MARKER_EVERY == 0
        window = self.window
        msg = media_message(call.stream_sid, call.seq, call.chunk, PAYLOAD_B64[(marker, window)])
        call.seq += 1
        if marker:
            call.markers.append((time.monotonic(), window))
        if window:
            call.sent_window += 1
        try:
            await call.ws.send(msg)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the receive task notes the failure
            call.up = False

    async def _ticker(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        period = FRAME_MS / 1000
        next_t = loop.time()
        while not stop.is_set():
            for call in self.calls:
                if call.up:
                    await self._tick(call)
            next_t += period
            delay = next_t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.late_ticks += 1
                await asyncio.sleep(0)

    async def run(self) -> dict:
        """Set the calls up, run the steady window, hang up; return the results."""
        stop = asyncio.Event()
        ticker = asyncio.create_task(self._ticker(stop))
        opening = []
        for call in self.calls:
            opening.append(asyncio.create_task(self._open(call)))
            await asyncio.sleep(1 / self.ramp)
        await asyncio.gather(*opening)
        _say(f"ALL_UP {sum(1 for c in self.calls if c.up)}")
        await asyncio.sleep(1.0)  # first echoes back, pipelines warm
        self.window = True
        t0 = time.monotonic()
        _say("STEADY_START")
        await asyncio.sleep(self.duration)
        self.window = False
        duration = time.monotonic() - t0
        _say("STEADY_END")
        await asyncio.sleep(0.5)  # the window's last echoes
        stop.set()
        await ticker
        for call in self.calls:
            call.closed = True
            if call.ws is not None:
                try:
                    await call.ws.send(stop_message(call.stream_sid, call.call_sid, call.seq))  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001
                    pass
        await asyncio.gather(
            *(c.ws.close() for c in self.calls if c.ws is not None), return_exceptions=True  # type: ignore[attr-defined]
        )
        return self.results(duration)

    def results(self, duration: float) -> dict:
        """The contract's JSON object."""
        established = [c for c in self.calls if c.ws is not None]
        sent = sum(c.sent_window for c in established)
        recv = sum(c.recv_samples_window for c in established) // FRAME_BYTES
        delays = [d for c in established for d in c.delays_ms]
        setups = [c.setup_ms for c in established]
        loss = max(0.0, 1 - recv / sent) * 100 if sent else 100.0
        return {
            "system": "pipecat_ws",
            "calls_requested": len(self.calls),
            "calls_established": len(established),
            "calls_failed": sum(1 for c in self.calls if c.failed),
            "duration_s": round(duration, 3),
            "packets_sent": sent,
            "packets_received": recv,
            "loss_pct": round(loss, 4),
            "echo_delay_ms": {"p50": round(percentile(delays, 50), 2), "p99": round(percentile(delays, 99), 2)},
            "setup_ms": {"p50": round(percentile(setups, 50), 2), "p99": round(percentile(setups, 99), 2)},
            "late_ticks": self.late_ticks,
        }


def main(argv: list[str] | None = None) -> None:
    """Run the load and print the JSON result as the last line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--duration", type=float, default=10.0, help="seconds of steady media")
    p.add_argument("--target", default="127.0.0.1:8765", help="HOST:PORT of the server")
    p.add_argument("--ramp", type=float, default=50.0, help="new calls per second")
    args = p.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    gen = LoadGen(host or "127.0.0.1", int(port), args.calls, args.duration, args.ramp)
    try:
        import uvloop  # type: ignore[import-not-found]

        result = uvloop.run(gen.run())
    except ImportError:
        result = asyncio.run(gen.run())
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
