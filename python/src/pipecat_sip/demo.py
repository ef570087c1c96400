#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""The default demo: a Pipecat bot on SIP calls that needs no API key and no network.

It answers, greets the caller with a prompt rendered offline by espeak-ng, and repeats
back each thing the caller says (turns found with Pipecat's bundled Silero VAD). Speak
while it talks and it stops mid-sentence to listen (barge-in). Press a key and it tells
you which (RFC 4733 DTMF); ``#`` says goodbye and hangs up.

Run it::

    python -m pipecat_sip.demo            # SIP on UDP port $SIP_SERVER_PORT (6060)

and call ``sip:bot@HOST:6060`` from baresip or Linphone.
"""

from __future__ import annotations

import collections
import os

from loguru import logger

from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    EndWorkerFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.runner.types import RunnerArguments
from pipecat.transports.base_transport import TransportParams
from pipecat.workers.runner import WorkerRunner

from pipecat_sip.runner import create_transport, main
from pipecat_sip.speech import render_speech
from pipecat_sip.transport import SIPParams

__all__ = ["RepeatBackProcessor", "bot", "cli", "run_bot"]

GREETING = os.getenv(
    "DEMO_GREETING",
    "Hello! This is the gst sip demo bot. Say something, and I will repeat it back to you. "
    "Press the hash key to hang up.",
)
YOU_SAID = "You said:"
GOODBYE = "Goodbye!"
SAMPLE_RATE = 8000  # a phone call is 8 kHz anyway; Silero VAD works at 8 kHz


class RepeatBackProcessor(FrameProcessor):
    """Records each caller turn (between VAD start and stop) and plays it back.

    Sits after a ``VADProcessor``. Caller audio is not passed on. While the bot is
    speaking, the caller starting to speak interrupts it (``broadcast_interruption``),
    which makes the SIP transport drop the audio queued in GStreamer.
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        prefix_text: str | None = YOU_SAID,
        pre_roll_secs: float = 0.5,
        min_secs: float = 0.25,
        max_secs: float = 15.0,
        **kwargs,
    ):
        """Create the processor.

        Args:
            sample_rate: Rate of the audio played back (the pipeline's output rate).
            prefix_text: Said before each repetition (``None``: nothing).
            pre_roll_secs: Audio kept from before VAD fired (VAD fires after the
                start of speech).
            min_secs: Shorter turns are ignored (clicks, coughs).
            max_secs: Longer turns are cut.
            **kwargs: Passed to :class:`FrameProcessor`.
        """
        super().__init__(**kwargs)
        self._rate = sample_rate
        self._prefix_text = prefix_text
        self._pre_roll_bytes = int(pre_roll_secs * sample_rate) * 2
        self._min_bytes = int(min_secs * sample_rate) * 2
        self._max_bytes = int(max_secs * sample_rate) * 2
        self._pre_roll: collections.deque[bytes] = collections.deque()
        self._pre_roll_len = 0
        self._recording: bytearray | None = None
        self._in_rate = sample_rate
        self._bot_speaking = False
        self._turns = 0

    async def say(self, audio: bytes, *, sample_rate: int | None = None) -> None:
        """Push one utterance downstream as TTS audio.

        Args:
            audio: S16LE mono PCM.
            sample_rate: Its rate (default: the processor's rate).
        """
        self._turns += 1
        ctx = f"repeat-{self._turns}"
        await self.push_frame(TTSStartedFrame(context_id=ctx))
        await self.push_frame(
            TTSAudioRawFrame(audio=audio, sample_rate=sample_rate or self._rate, num_channels=1, context_id=ctx)
        )
        await self.push_frame(TTSStoppedFrame(context_id=ctx))

    async def say_text(self, text: str) -> None:
        """Render ``text`` with espeak-ng and say it.

        Args:
            text: What to say.
        """
        await self.say(await render_speech(text, self._rate))

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        """Record turns, play them back, handle DTMF.

        Args:
            frame: The frame.
            direction: Its direction.
        """
        await super().process_frame(frame, direction)

        if isinstance(frame, InputAudioRawFrame):
            self._in_rate = frame.sample_rate
            if self._recording is not None:
                if len(self._recording) < self._max_bytes:
                    self._recording.extend(frame.audio)
            else:
                self._pre_roll.append(frame.audio)
                self._pre_roll_len += len(frame.audio)
                while self._pre_roll and self._pre_roll_len - len(self._pre_roll[0]) >= self._pre_roll_bytes:
                    self._pre_roll_len -= len(self._pre_roll.popleft())
            return  # caller audio is not played back as it comes

        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._recording = bytearray(b"".join(self._pre_roll))
            self._pre_roll.clear()
            self._pre_roll_len = 0
            if self._bot_speaking:
                logger.info(f"{self}: caller speaks over the bot: interrupting")
                await self.broadcast_interruption()
            await self.push_frame(frame, direction)
            return

        if isinstance(frame, VADUserStoppedSpeakingFrame):
            await self.push_frame(frame, direction)
            rec, self._recording = self._recording, None
            if rec is not None and len(rec) >= self._min_bytes:
                logger.info(f"{self}: repeating {len(rec) / 2 / self._in_rate:.1f} s of caller audio")
                if self._prefix_text:
                    await self.say_text(self._prefix_text)
                await self.say(bytes(rec), sample_rate=self._in_rate)
            return

        if isinstance(frame, InputDTMFFrame):
            digit = frame.button.value
            logger.info(f"{self}: caller pressed {digit}")
            if digit == "#":
                await self.say_text(GOODBYE)
                await self.push_frame(EndWorkerFrame(), FrameDirection.UPSTREAM)
            else:
                name = {"*": "star"}.get(digit, digit)
                await self.say_text(f"You pressed {name}.")
            return

        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, (BotStoppedSpeakingFrame, InterruptionFrame)):
            self._bot_speaking = False

        await self.push_frame(frame, direction)


transport_params = {
    "sip": lambda: SIPParams(audio_in_enabled=True, audio_out_enabled=True),
    # The same bot in a browser: python -m pipecat_sip.demo -t webrtc
    "webrtc": lambda: TransportParams(audio_in_enabled=True, audio_out_enabled=True),
}


async def run_bot(transport, runner_args: RunnerArguments) -> None:
    """Run the repeat-back bot on one call.

    Args:
        transport: The call's transport.
        runner_args: The runner arguments.
    """
    greeting = await render_speech(GREETING, SAMPLE_RATE)

    vad = VADProcessor(vad_analyzer=SileroVADAnalyzer(params=VADParams(stop_secs=0.6)))
    repeat = RepeatBackProcessor(sample_rate=SAMPLE_RATE)

    pipeline = Pipeline([transport.input(), vad, repeat, transport.output()])
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE, audio_out_sample_rate=SAMPLE_RATE),
        idle_timeout_secs=runner_args.pipeline_idle_timeout_secs,
        enable_rtvi=False,
    )

    @transport.event_handler("on_client_connected")
    async def on_client_connected(transport, call):
        if hasattr(call, "call_id"):
            logger.info(f"Call {call.call_id} from {call.from_header} to {call.to_header}: greeting")
        await worker.queue_frames(
            [
                TTSStartedFrame(context_id="greeting"),
                TTSAudioRawFrame(greeting, SAMPLE_RATE, 1, context_id="greeting"),
                TTSStoppedFrame(context_id="greeting"),
            ]
        )

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport, call):
        if hasattr(call, "call_id"):
            logger.info(f"Call {call.call_id} ended ({call.end_reason})")
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=runner_args.handle_sigint)
    await runner.add_workers(worker)
    await runner.run()


async def bot(runner_args: RunnerArguments):
    """Entry point, called once per call by the runner.

    Args:
        runner_args: The runner arguments (a SIP call).
    """
    transport = await create_transport(runner_args, transport_params)
    await run_bot(transport, runner_args)


def cli() -> None:
    """``python -m pipecat_sip.demo``: answer SIP calls with the demo bot."""
    main(bot, default_transport="sip")


if __name__ == "__main__":
    cli()
