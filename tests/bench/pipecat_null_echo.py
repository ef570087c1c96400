#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Pipecat alone (issue 5): the echo bot of both Python systems over a transport with no I/O.

What any Pipecat transport costs at least with this bot: N copies of
:func:`echo_bot.run_bot`, each over a transport whose input is handed a frame of
silence every ``--frame-ms`` (as the SIP transport hands caller audio straight to
``push_frame``) and whose output paces its writes in real time with an asyncio
sleep, as the SIP transport's writes into GStreamer are paced; no socket, no codec,
no GStreamer. Same process settings as the SIP runner (uvloop, start-up objects
frozen out of the cyclic collector). Prints one JSON line::

    .venv/bin/python tests/bench/pipecat_null_echo.py --calls 50 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loguru import logger  # noqa: E402

from echo_bot import SAMPLE_RATE, run_bot  # noqa: E402
from pipecat.frames.frames import InputAudioRawFrame, OutputAudioRawFrame, StartFrame  # noqa: E402
from pipecat.transports.base_input import BaseInputTransport  # noqa: E402
from pipecat.transports.base_output import BaseOutputTransport  # noqa: E402
from pipecat.transports.base_transport import BaseTransport, TransportParams  # noqa: E402

# Audio queued ahead of real time before a write sleeps (the SIP transport's default).
OUT_QUEUE_SECS = 0.06
# Where a write starts the timeline, ahead of now (the SIP transport's margin).
OUT_MARGIN_SECS = 0.04


class NullParams(TransportParams):
    """The SIP transport's settings that matter here: no write timeout task per frame."""

    audio_out_write_timeout_secs: float | None = None  # type: ignore[assignment]


class NullInput(BaseInputTransport):
    """Hands frames given to :meth:`feed` straight to the pipeline."""

    _ready = False

    async def start(self, frame: StartFrame) -> None:
        """Start, and take frames from now on.

        Args:
            frame: The start frame.
        """
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._ready = True

    def feed(self, audio: bytes):
        """Push one frame of audio into the pipeline.

        Args:
            audio: S16LE mono PCM at :data:`echo_bot.SAMPLE_RATE`.

        Returns:
            The push, to await, or ``None`` before the pipeline started.
        """
        if not self._ready:
            return None
        return self.push_frame(InputAudioRawFrame(audio=audio, sample_rate=SAMPLE_RATE, num_channels=1))


class NullOutput(BaseOutputTransport):
    """Takes the bot's audio and paces the writes in real time."""

    bytes_out = 0
    _due: float | None = None  # when the audio written so far has played

    async def start(self, frame: StartFrame) -> None:
        """Start writing.

        Args:
            frame: The start frame.
        """
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        """Count the audio; sleep while more than ``OUT_QUEUE_SECS`` is ahead of now.

        Args:
            frame: The bot's audio.

        Returns:
            ``True``: the frame was taken.
        """
        now = time.monotonic()
        if self._due is None or self._due < now:
            self._due = now + OUT_MARGIN_SECS
        self._due += len(frame.audio) / 2 / SAMPLE_RATE
        self.bytes_out += len(frame.audio)
        ahead = self._due - now
        if ahead > OUT_QUEUE_SECS:
            await asyncio.sleep(ahead - OUT_QUEUE_SECS)
        return True


class NullTransport(BaseTransport):
    """A transport with the SIP transport's events and no I/O."""

    def __init__(self) -> None:
        """Create the input and output processors."""
        super().__init__()
        params = NullParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            audio_in_sample_rate=SAMPLE_RATE,
            audio_out_sample_rate=SAMPLE_RATE,
        )
        self._in = NullInput(params)
        self._out = NullOutput(params)
        self._register_event_handler("on_client_connected")
        self._register_event_handler("on_client_disconnected")

    def input(self) -> NullInput:
        """The input processor."""
        return self._in

    def output(self) -> NullOutput:
        """The output processor."""
        return self._out


async def measure(calls: int, duration: float, frame_ms: int) -> None:
    """Run ``calls`` echo bots, feed them for ``duration`` s, print the CPU they took.

    Args:
        calls: How many bots.
        duration: Measured seconds (after 2 s for the pipelines to start).
        frame_ms: Input frame length.
    """
    gc.collect()
    gc.freeze()
    transports = [NullTransport() for _ in range(calls)]
    bots = [asyncio.create_task(run_bot(t)) for t in transports]
    frame = bytes(SAMPLE_RATE * frame_ms // 1000 * 2)
    slots = max(1, frame_ms // 10)
    await asyncio.sleep(2.0)  # every pipeline started
    t0, start = os.times(), time.monotonic()
    tick, next_t = 0, start
    while time.monotonic() - start < duration:
        # every 10 ms one slot of the calls gets its frame: calls' frames spread in time
        for i in range(tick % slots, calls, slots):
            push = transports[i].input().feed(frame)
            if push is not None:
                await push
        tick += 1
        next_t += 0.010
        await asyncio.sleep(max(0.0, next_t - time.monotonic()))
    t1, wall = os.times(), time.monotonic() - start
    cpu = 100.0 * (t1.user + t1.system - t0.user - t0.system) / wall
    fed = calls * (tick // slots) * len(frame)
    out = sum(t.output().bytes_out for t in transports)
    del bots  # left running: main() ends the process
    result = {"system": "pipecat-alone", "calls": calls, "frame_ms": frame_ms,
            "window_s": round(wall, 2), "cpu_total_pct": round(cpu, 2),
            "cpu_per_call_pct": round(cpu / calls, 4), "audio_echoed_pct": round(100.0 * out / fed, 1)}
    print(json.dumps(result), flush=True)
    os._exit(0)  # the bots are left running, not torn down: nothing to keep


def main() -> None:
    """Print the measurement as one JSON line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--frame-ms", type=int, default=40, help="input frame length (SIPParams' default)")
    args = p.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        asyncio.run(measure(args.calls, args.duration, args.frame_ms))
    else:
        uvloop.run(measure(args.calls, args.duration, args.frame_ms))


if __name__ == "__main__":
    main()
