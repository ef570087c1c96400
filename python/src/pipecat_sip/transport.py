#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""SIPTransport: a Pipecat transport for one SIP phone call.

The call's audio runs through one GStreamer pipeline (see :mod:`pipecat_sip.media`):
``sipsrc`` (RTP, jitter buffer, G.711 decode) feeds the bot's input at the Pipecat
pipeline's sample rate, and the bot's output goes through ``appsrc`` to ``sipsink``
(G.711 encode, 20 ms RTP packets paced in real time). All resampling happens in
GStreamer.

Event handlers available:

- ``on_client_connected(transport, call)``: the call is up (the caller's ACK arrived).
- ``on_client_disconnected(transport, call)``: the call ended, from either side.

``call`` is a :class:`~pipecat_sip.call.SIPCall` (call id, From, To, remote media
address, INVITE headers).

Example::

    transport = SIPTransport(call, SIPParams(audio_in_enabled=True, audio_out_enabled=True))

    @transport.event_handler("on_client_connected")
    async def on_client_connected(transport, call):
        logger.info(f"Call from {call.from_user} to {call.to_user}")

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport, call):
        await worker.cancel()

Frames: caller audio arrives as ``InputAudioRawFrame``; RFC 4733 DTMF digits as
``InputDTMFFrame``. ``InterruptionFrame`` drops the audio already queued in GStreamer;
``EndFrame`` hangs up (BYE) after the queued audio has been played; ``CancelFrame``
hangs up at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from loguru import logger

from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    CancelFrame,
    ClientConnectedFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams

from pipecat_sip.call import SIPCall
from pipecat_sip.media import MediaCallbacks, SIPMediaPipeline

__all__ = ["SIPInputTransport", "SIPOutputTransport", "SIPParams", "SIPTransport"]


class SIPParams(TransportParams):
    """Configuration of a SIP call transport.

    Audio input and output are on by default (a phone call is audio). The SIP server
    itself (listen address, port, RTP range, policy) is configured by the runner from
    the environment; see :class:`pipecat_sip.config.SIPServerConfig`.

    Parameters:
        audio_in_enabled: Receive the caller's audio (default ``True``).
        audio_out_enabled: Send the bot's audio (default ``True``).
        audio_out_end_silence_secs: Silence appended after ``EndFrame``; ``0`` by
            default because ``sipsink`` sends BYE only after the last audio has played.
        jitter_buffer_ms: ``sipsrc`` jitter-buffer latency in ms; ``None`` keeps the
            element's default (tuned for a voice bot).
        output_queue_ms: Most bot audio held in GStreamer's ``appsrc`` before a write
            waits (the playout buffer an interruption drops).
        audio_in_frame_ms: Length of each ``InputAudioRawFrame`` of caller audio, in ms
            (a multiple of 10). Every frame crosses the whole Pipecat pipeline, so the
            per-call CPU of a bot falls with longer frames; a frame is delivered only
            once complete, so the bot hears the caller up to this much later.
        audio_out_auto_silence: Send silence while the bot says nothing, so RTP keeps
            flowing (trunks and NATs drop silent calls): ``sipsink``'s ``send-silence``,
            in C, with no work for Python. Default ``True``.
        auto_answer: Answer the call (200 OK) once the media pipeline is playing, if
            nobody has answered it yet.
        end_call_timeout_secs: After ``EndFrame``, the most seconds to wait for the
            queued audio to play out and the call to hang up before forcing BYE.
        audio_out_write_timeout_secs: ``None`` by default: a write into GStreamer never
            waits for the caller (``appsrc`` does not block; the pacing sleep is
            bounded), so there is nothing to time out, and Pipecat then spares a task
            and a timer per output frame.
    """

    audio_in_enabled: bool = True
    audio_out_enabled: bool = True
    audio_out_end_silence_secs: int = 0
    jitter_buffer_ms: int | None = None
    output_queue_ms: int = 60
    audio_in_frame_ms: int = 40
    auto_answer: bool = True
    end_call_timeout_secs: float = 15.0
    audio_out_write_timeout_secs: float | None = None  # type: ignore[assignment]


class _SIPSession:
    """State shared by the input and output processors of one call."""

    def __init__(self, transport: SIPTransport, call: SIPCall, params: SIPParams):
        self.transport = transport
        self.call = call
        self.params = params
        self.media: SIPMediaPipeline | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.input: SIPInputTransport | None = None
        self.in_sample_rate = 0
        self._start_lock = asyncio.Lock()
        self._connected = False
        self._disconnected = False
        self._closed = False
        self._tasks: set[asyncio.Task] = set()

    def _spawn(self, coro: Any) -> None:
        if self.loop is None or self.loop.is_closed():
            coro.close()
            return
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def ensure_media(self) -> SIPMediaPipeline:
        if self.media is None:
            self.loop = asyncio.get_running_loop()
            self.media = SIPMediaPipeline(
                self.call,
                loop=self.loop,
                callbacks=MediaCallbacks(
                    on_audio=self._on_audio,
                    on_dtmf=self._on_dtmf,
                    on_connected=self._on_connected,
                    on_ended=self._on_ended,
                    on_error=self._on_error,
                ),
                latency_ms=self.params.jitter_buffer_ms,
                out_queue_ms=self.params.output_queue_ms,
                auto_silence=self.params.audio_out_auto_silence,
                auto_answer=self.params.auto_answer,
                in_frame_ms=self.params.audio_in_frame_ms,
            )
        return self.media

    async def start_media(self, fallback_in_rate: int) -> SIPMediaPipeline:
        async with self._start_lock:
            media = self.ensure_media()
            if not self._closed:
                await media.start(self.in_sample_rate or fallback_in_rate)
            return media

    # Callbacks from the media layer --------------------------------------------

    def _on_audio(self, data: bytes) -> Awaitable[None] | None:
        # Event loop (the media layer's input poller).
        inp = self.input
        if inp is not None:
            return inp.feed_audio(data)
        return None

    def _on_dtmf(self, digit: str) -> None:
        inp = self.input
        if inp is not None:
            self._spawn(inp.push_dtmf(digit))

    def _on_connected(self) -> None:
        if self._connected:
            return
        self._connected = True
        logger.info(
            f"{self.transport}: call {self.call.call_id} connected "
            f"({self.call.caller.uri} -> {self.call.callee.uri})"
        )
        self._spawn(self.transport._client_connected())

    def _on_ended(self, reason: str) -> None:
        if self._disconnected:
            return
        self._disconnected = True
        logger.info(f"{self.transport}: call {self.call.call_id} ended ({reason})")
        self._spawn(self.transport._client_disconnected())

    def _on_error(self, text: str) -> None:
        logger.error(f"{self.transport}: media error on call {self.call.call_id}: {text}")
        inp = self.input
        if inp is not None and not self._closed:
            # An ErrorFrame upstream, like other transports: on_pipeline_error sees it.
            self._spawn(inp.push_error(f"SIP media error: {text}"))

    # Teardown ---------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.media is not None:
            await self.media.stop()


class SIPInputTransport(BaseInputTransport):
    """Receives the caller's audio and DTMF digits."""

    _params: SIPParams

    def __init__(self, transport: SIPTransport, session: _SIPSession, params: SIPParams, **kwargs):
        """Create the input processor.

        Args:
            transport: The parent transport.
            session: Shared call state.
            params: Transport parameters.
            **kwargs: Passed to :class:`BaseInputTransport`.
        """
        super().__init__(params, **kwargs)
        self._transport = transport
        self._session = session
        self._ready = False
        self._stopped = False
        session.input = self

    async def setup(self, setup: FrameProcessorSetup):
        """Learn the input sample rate.

        Args:
            setup: Pipeline setup (sample rates, clock, task manager).
        """
        await super().setup(setup)
        self._session.in_sample_rate = self.sample_rate

    async def start(self, frame: StartFrame):
        """Start the call's media pipeline and begin delivering audio.

        Args:
            frame: The start frame.
        """
        await super().start(frame)
        await self._session.start_media(self.sample_rate)
        await self.set_transport_ready(frame)
        self._ready = True

    async def stop(self, frame: EndFrame):
        """Stop delivering audio (the output side hangs up after playout).

        Args:
            frame: The end frame.
        """
        self._stopped = True
        await super().stop(frame)

    async def cancel(self, frame: CancelFrame):
        """Stop delivering audio at once.

        Args:
            frame: The cancel frame.
        """
        self._stopped = True
        await super().cancel(frame)

    async def cleanup(self):
        """Release the call's media."""
        await super().cleanup()
        await self._session.close()

    def feed_audio(self, data: bytes) -> Awaitable[None] | None:
        """Hand caller audio to Pipecat (called on the event loop).

        Args:
            data: S16LE mono PCM at the input sample rate.

        Returns:
            The push into the pipeline, for the caller to await (no task per
            frame), or ``None`` when the audio is dropped.
        """
        if not self._ready or self._stopped or not self._params.audio_in_enabled:
            return None
        frame = InputAudioRawFrame(audio=data, sample_rate=self.sample_rate, num_channels=1)
        params = self._params
        if params.audio_in_filter is None and params.audio_in_passthrough and not self._paused:
            # What BaseInputTransport's audio task would do with the frame, without
            # its queue and its wait_for (a task and a timer per frame): the poller
            # already decouples GStreamer from the pipeline.
            return self.push_frame(frame)
        return self.push_audio_frame(frame)

    async def push_dtmf(self, digit: str) -> None:
        """Turn an RFC 4733 digit into an ``InputDTMFFrame``.

        Args:
            digit: ``"0"``-``"9"``, ``"*"``, ``"#"`` (``"A"``-``"D"`` are logged and dropped:
                Pipecat's ``KeypadEntry`` has no such keys).
        """
        if self._stopped:
            return
        try:
            button = KeypadEntry(digit)
        except ValueError:
            logger.warning(f"{self}: DTMF {digit!r} has no Pipecat KeypadEntry; dropped")
            return
        logger.debug(f"{self}: DTMF {digit}")
        await self.push_frame(InputDTMFFrame(button=button))

    async def push_client_connected(self) -> None:
        """Tell the pipeline the caller is connected."""
        await self.push_frame(ClientConnectedFrame())


class SIPOutputTransport(BaseOutputTransport):
    """Plays the bot's audio to the caller; hangs up on EndFrame/CancelFrame."""

    _params: SIPParams

    def __init__(self, transport: SIPTransport, session: _SIPSession, params: SIPParams, **kwargs):
        """Create the output processor.

        Args:
            transport: The parent transport.
            session: Shared call state.
            params: Transport parameters.
            **kwargs: Passed to :class:`BaseOutputTransport`.
        """
        super().__init__(params, **kwargs)
        self._transport = transport
        self._session = session
        self._last_interruption_id = -1
        self._pipeline_in_rate = 16000

    async def setup(self, setup: FrameProcessorSetup):
        """Learn the pipeline's input rate (used if the input processor is not in it).

        Args:
            setup: Pipeline setup (sample rates, clock, task manager).
        """
        await super().setup(setup)
        self._pipeline_in_rate = setup.audio_in_sample_rate

    async def start(self, frame: StartFrame):
        """Start sending audio.

        Args:
            frame: The start frame.
        """
        await super().start(frame)
        media = await self._session.start_media(self._pipeline_in_rate)
        await media.start_output(self.sample_rate)
        await self.set_transport_ready(frame)

    async def stop(self, frame: EndFrame):
        """Play out what is queued, then hang up (``sipsink`` sends BYE after the audio).

        Args:
            frame: The end frame.
        """
        await super().stop(frame)
        media = self._session.media
        if media is not None and not media.ended:
            logger.debug(f"{self}: EndFrame: hanging up after playout")
            await media.finish(timeout=self._params.end_call_timeout_secs)

    async def cancel(self, frame: CancelFrame):
        """Hang up at once.

        Args:
            frame: The cancel frame.
        """
        await super().cancel(frame)
        media = self._session.media
        if media is not None:
            media.hangup()
        elif not self._session.call.ended:
            self._session.call.hangup()

    async def cleanup(self):
        """Release the call's media."""
        await super().cleanup()
        await self._session.close()

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        """Handle frames; on ``InterruptionFrame`` drop the audio queued in GStreamer.

        Args:
            frame: The frame.
            direction: Its direction.
        """
        if isinstance(frame, InterruptionFrame):
            self._last_interruption_id = frame.id
        await super().process_frame(frame, direction)
        if isinstance(frame, InterruptionFrame):
            media = self._session.media
            if media is not None:
                await media.flush()

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        """Queue audio for the caller (paced by GStreamer; never blocks the loop).

        Audio cut up before the latest interruption is dropped here, so an
        interrupted chunk that was already on its way is not played.

        Args:
            frame: Audio at the output sample rate.

        Returns:
            Whether the transport took the frame.
        """
        media = self._session.media
        if media is None:
            return False
        if frame.interruptible and frame.id < self._last_interruption_id:
            return True
        return await media.write(frame.audio)


class SIPTransport(BaseTransport):
    """Pipecat transport for one SIP call (one GStreamer pipeline).

    Event handlers: ``on_client_connected(transport, call)`` and
    ``on_client_disconnected(transport, call)``, with a :class:`SIPCall`.
    """

    def __init__(
        self,
        call: SIPCall | Any,
        params: SIPParams | None = None,
        *,
        name: str | None = None,
        input_name: str | None = None,
        output_name: str | None = None,
    ):
        """Create the transport for a call.

        Args:
            call: The call, a :class:`SIPCall` or a ``Sip.Call`` from the C library.
            params: Transport parameters (defaults: audio in and out enabled).
            name: Optional transport name.
            input_name: Optional name for the input processor.
            output_name: Optional name for the output processor.
        """
        super().__init__(name=name, input_name=input_name, output_name=output_name)
        self._call = call if isinstance(call, SIPCall) else SIPCall(call)
        self._params = params or SIPParams()
        self._session = _SIPSession(self, self._call, self._params)
        self._input: SIPInputTransport | None = None
        self._output: SIPOutputTransport | None = None

        self._register_event_handler("on_client_connected")
        self._register_event_handler("on_client_disconnected")

    @property
    def call(self) -> SIPCall:
        """The call this transport carries."""
        return self._call

    @property
    def media(self) -> SIPMediaPipeline | None:
        """The call's GStreamer media pipeline, once started."""
        return self._session.media

    def input(self) -> SIPInputTransport:
        """The input processor (caller audio, DTMF).

        Returns:
            The input transport.
        """
        if not self._input:
            self._input = SIPInputTransport(self, self._session, self._params, name=self._input_name)
        return self._input

    def output(self) -> SIPOutputTransport:
        """The output processor (bot audio, hang-up).

        Returns:
            The output transport.
        """
        if not self._output:
            self._output = SIPOutputTransport(
                self, self._session, self._params, name=self._output_name
            )
        return self._output

    def get_client_id(self, client: Any) -> str:
        """The client's id: the call's Call-ID.

        Args:
            client: The :class:`SIPCall` passed to the client events.

        Returns:
            The Call-ID.
        """
        return getattr(client, "call_id", "") or self._call.call_id

    async def hangup(self) -> None:
        """Hang the call up now (BYE), without waiting for queued audio."""
        media = self._session.media
        if media is not None:
            media.hangup()
        else:
            self._call.hangup()

    async def _client_connected(self) -> None:
        if self._input is not None:
            await self._input.push_client_connected()
        await self._call_event_handler("on_client_connected", self._call)

    async def _client_disconnected(self) -> None:
        await self._call_event_handler("on_client_disconnected", self._call)
