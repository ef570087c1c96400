#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""The Pipecat bot both Python systems under test run (issue 5).

The same bot runs behind the pipecat_sip runner (``pipecat_sip_echo.py``) and behind
Pipecat's FastAPIWebsocketTransport with the Twilio serializer (``pipecat_ws_echo.py``),
so the benchmark compares transports, not bots.

Two modes:

- ``echo`` (default): ``transport.input() -> EchoBot -> transport.output()``, every
  ``InputAudioRawFrame`` comes back as an ``OutputAudioRawFrame``. No STT, LLM, TTS.
- ``listen``: the bot hears the caller and says nothing, the state a voice bot is
  in most of a call (its transport keeps RTP flowing with silence).
- ``bargein``: the bot says one long utterance (a tone, as TTS audio) as soon as the
  caller is connected; Silero VAD (the same settings for both transports) hears the
  caller and the bot interrupts itself, as a voice bot does when the caller speaks over
  it. ``bargein.py`` measures how long the bot's audio keeps arriving.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    VADUserStartedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

__all__ = ["EchoBot", "Interrupter", "SAMPLE_RATE", "bot_tone", "run_bot"]

# Telephony rate: both transports carry 8 kHz G.711, so the pipeline runs at 8 kHz.
SAMPLE_RATE = 8000

# The bot's long utterance in barge-in mode: a 400 Hz tone at about -12 dBFS.
UTTERANCE_SECS = 30.0
TONE_HZ = 400.0
TONE_AMPLITUDE = 8000

# Silero settings shared by both transports (Pipecat's defaults, written out).
VAD_CONFIDENCE = 0.7
VAD_START_SECS = 0.2
VAD_STOP_SECS = 0.2
VAD_MIN_VOLUME = 0.6


class EchoBot(FrameProcessor):
    """Plays the caller's audio back: ``InputAudioRawFrame`` -> ``OutputAudioRawFrame``.

    With ``listen=True`` it only hears the caller: input audio is dropped.
    """

    def __init__(self, *, listen: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self._listen = listen

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Echo (or drop) input audio, pass every other frame on.

        Args:
            frame: The frame.
            direction: Its direction.
        """
        await super().process_frame(frame, direction)
        if not isinstance(frame, InputAudioRawFrame):
            await self.push_frame(frame, direction)
        elif not self._listen:
            await self.push_frame(
                OutputAudioRawFrame(frame.audio, frame.sample_rate, frame.num_channels)
            )


class Interrupter(FrameProcessor):
    """Interrupts the bot when the VAD hears the caller (barge-in)."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """On ``VADUserStartedSpeakingFrame`` broadcast an interruption.

        Args:
            frame: The frame.
            direction: Its direction.
        """
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, VADUserStartedSpeakingFrame):
            await self.broadcast_interruption()


def bot_tone(secs: float = UTTERANCE_SECS, rate: int = SAMPLE_RATE) -> bytes:
    """The bot's utterance: a steady tone, S16LE mono.

    Args:
        secs: Length in seconds.
        rate: Sample rate.

    Returns:
        PCM bytes.
    """
    n = int(secs * rate)
    period = [int(TONE_AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * i / rate)) for i in range(rate)]
    one_sec = struct.pack(f"<{rate}h", *period)
    whole, rest = divmod(n, rate)
    return one_sec * whole + one_sec[: rest * 2]


def _vad_processor() -> FrameProcessor:
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.audio.vad.vad_analyzer import VADParams
    from pipecat.processors.audio.vad_processor import VADProcessor

    params = VADParams(
        confidence=VAD_CONFIDENCE,
        start_secs=VAD_START_SECS,
        stop_secs=VAD_STOP_SECS,
        min_volume=VAD_MIN_VOLUME,
    )
    return VADProcessor(vad_analyzer=SileroVADAnalyzer(params=params))


async def run_bot(transport: Any, mode: str = "echo") -> None:
    """Run the bot on one call until the caller hangs up.

    Args:
        transport: A Pipecat transport for the call (SIPTransport or
            FastAPIWebsocketTransport), with ``on_client_connected`` and
            ``on_client_disconnected`` events.
        mode: ``"echo"``, ``"listen"`` or ``"bargein"``.
    """
    if mode == "bargein":
        middle: list[FrameProcessor] = [_vad_processor(), Interrupter()]
    elif mode in ("echo", "listen"):
        middle = [EchoBot(listen=mode == "listen")]
    else:
        raise ValueError(f"unknown bot mode {mode!r}")
    pipeline = Pipeline([transport.input(), *middle, transport.output()])
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE, audio_out_sample_rate=SAMPLE_RATE),
        enable_rtvi=False,
        idle_timeout_secs=None,
    )

    @transport.event_handler("on_client_connected")
    async def _connected(_transport: Any, _client: Any) -> None:
        if mode == "bargein":
            await worker.queue_frames(
                [
                    TTSStartedFrame(context_id="utterance"),
                    TTSAudioRawFrame(bot_tone(), SAMPLE_RATE, 1, context_id="utterance"),
                    TTSStoppedFrame(context_id="utterance"),
                ]
            )

    @transport.event_handler("on_client_disconnected")
    async def _disconnected(_transport: Any, _client: Any) -> None:
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()
