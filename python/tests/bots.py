"""Small Pipecat bots used by the tests, each recording what happened on its call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from pipecat_sip import SIPParams
from pipecat_sip.runner import create_transport


@dataclass
class CallRecord:
    """What one bot saw on its call."""

    call: Any = None
    transport: Any = None
    worker: Any = None
    connected_at: float | None = None
    disconnected_at: float | None = None
    finished_at: float | None = None
    end_reason: str | None = None
    dtmf: list[str] = field(default_factory=list)
    input_bytes: int = 0
    input_rates: set[int] = field(default_factory=set)
    input_sizes: set[int] = field(default_factory=set)  # bytes per InputAudioRawFrame
    events: list[tuple[float, str]] = field(default_factory=list)
    error: BaseException | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    extra: dict[str, Any] = field(default_factory=dict)

    def log(self, what: str) -> None:
        self.events.append((time.monotonic(), what))


class Recorder:
    """Collects one CallRecord per call."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []
        self.new_record = asyncio.Event()

    def add(self) -> CallRecord:
        r = CallRecord()
        self.records.append(r)
        self.new_record.set()
        return r

    async def wait_for_calls(self, n: int, timeout: float) -> list[CallRecord]:
        deadline = time.monotonic() + timeout
        while len(self.records) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(self.records)} of {n} calls reached the bot"
            self.new_record.clear()
            try:
                await asyncio.wait_for(self.new_record.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.records[:n]


class Tap(FrameProcessor):
    """Notes input audio and DTMF frames, passes everything on."""

    def __init__(self, record: CallRecord, **kwargs):
        super().__init__(**kwargs)
        self._record = record

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self._record.input_bytes += len(frame.audio)
            self._record.input_rates.add(frame.sample_rate)
            self._record.input_sizes.add(len(frame.audio))
        elif isinstance(frame, InputDTMFFrame):
            self._record.dtmf.append(frame.button.value)
            self._record.log(f"dtmf {frame.button.value}")
        await self.push_frame(frame, direction)


class Echo(FrameProcessor):
    """Plays the caller's audio back (InputAudioRawFrame -> OutputAudioRawFrame)."""

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            await self.push_frame(OutputAudioRawFrame(frame.audio, frame.sample_rate, frame.num_channels))
        else:
            await self.push_frame(frame, direction)


def tts_frames(audio: bytes, rate: int, ctx: str = "say") -> list[Frame]:
    return [
        TTSStartedFrame(context_id=ctx),
        TTSAudioRawFrame(audio, rate, 1, context_id=ctx),
        TTSStoppedFrame(context_id=ctx),
    ]


OnConnected = Callable[[CallRecord, PipelineWorker, Any], Awaitable[None]]


def make_bot(
    recorder: Recorder,
    *,
    sample_rate: int = 8000,
    echo: bool = False,
    processors: Callable[[CallRecord], list[FrameProcessor]] | None = None,
    on_connected: OnConnected | None = None,
    cancel_on_disconnect: bool = True,
    params: dict[str, Any] | None = None,
):
    """A bot(runner_args) for the SIP runner: transport.input() -> [Tap, Echo?, extra]
    -> transport.output(), recording its call in ``recorder``."""

    async def bot(runner_args) -> None:
        rec = recorder.add()
        try:
            transport = await create_transport(
                runner_args,
                {"sip": lambda: SIPParams(audio_in_enabled=True, audio_out_enabled=True, **(params or {}))},
            )
            rec.call = transport.call
            rec.transport = transport
            middle: list[FrameProcessor] = [Tap(rec)]
            if echo:
                middle.append(Echo())
            if processors:
                middle.extend(processors(rec))
            pipeline = Pipeline([transport.input(), *middle, transport.output()])
            worker = PipelineWorker(
                pipeline,
                params=PipelineParams(audio_in_sample_rate=sample_rate, audio_out_sample_rate=sample_rate),
                enable_rtvi=False,
                idle_timeout_secs=None,
            )
            rec.worker = worker

            @transport.event_handler("on_client_connected")
            async def _connected(transport, call):
                rec.connected_at = time.monotonic()
                rec.log("connected")
                rec.connected.set()
                if on_connected is not None:
                    await on_connected(rec, worker, transport)

            @transport.event_handler("on_client_disconnected")
            async def _disconnected(transport, call):
                rec.disconnected_at = time.monotonic()
                rec.end_reason = call.end_reason
                rec.log(f"disconnected {call.end_reason}")
                rec.disconnected.set()
                if cancel_on_disconnect:
                    await worker.cancel()

            runner = WorkerRunner(handle_sigint=False)
            await runner.add_workers(worker)
            await runner.run()
        except BaseException as e:  # noqa: BLE001 - reported by the tests
            rec.error = e
            raise
        finally:
            rec.finished_at = time.monotonic()
            rec.log("finished")
            rec.finished.set()

    return bot


__all__ = [
    "CallRecord",
    "CancelFrame",
    "Echo",
    "EndFrame",
    "InterruptionFrame",
    "Recorder",
    "Tap",
    "make_bot",
    "tts_frames",
]
