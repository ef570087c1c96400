#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""The media of one SIP call: a single GStreamer pipeline built through PyGObject.

::

    sipsrc call=<Sip.Call> shared-threads=true [! audioconvert ! audioresample]
        ! capsfilter caps=audio/x-raw,format=S16LE,rate=<in>,channels=1 ! fdsink fd=<pipe>
    appsrc format=time is-live=true ! sipsink

``sipsink`` pairs with the ``sipsrc`` of its pipeline by itself and sends from the
call's RTP socket. All resampling between the call's 8 kHz G.711 and the Pipecat
pipeline's rates is done by GStreamer, in C: on input by the converters, left out
when Pipecat runs at 8 kHz; on output inside ``sipsink``.

Threads: Python runs only on the asyncio loop; GStreamer's streaming threads never
take the GIL. Caller audio is received, decoded (and resampled) by the few RTP
receive threads that sipsrc shares across all calls (``shared-threads``), which write
it through ``fdsink`` into a pipe, one per call: that pipe must be drained for as long
as the pipeline runs (a full pipe would hold a thread every call depends on). Every
10 ms one task per loop asks one epoll object which pipes have data and
reads them with ``os.read``: a process with many calls wakes the loop 100 times a
second, not once per packet per call, and a call costs no GObject call per packet
(reading an appsink took five). The bytes are cut into frames of ``in_frame_ms``
(Pipecat's per-frame cost dominates: 40 ms frames halve it). Bot audio is pushed into
appsrc from the loop with running-time timestamps a little ahead of the clock, and
:meth:`SIPMediaPipeline.write` sleeps (asyncio) while more than ``out_queue_ms`` is
queued ahead, so writes are paced like an audio device; ``sipsink`` (udpsink
``sync=TRUE``) sends in real time. While the bot is silent ``sipsink`` sends silence
itself (``send-silence``, from the one ticker thread it shares with every call), so
RTP keeps flowing (trunks and NATs drop silent calls) at no cost to Python. Barge-in
(:meth:`SIPMediaPipeline.flush`) sends flush-start/flush-stop(reset_time=False)
through appsrc, which drops everything queued in appsrc, the converters and the RTP
payloader, and restarts the timestamps. State changes run in a small thread pool
shared by all calls.
Bus messages are read with a bus sync handler (no GLib main loop needed) and
delivered to the asyncio loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import select
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from loguru import logger

from pipecat_sip._gi import Gst, GstApp, ensure_gst
from pipecat_sip.call import SIPCall

__all__ = ["MediaCallbacks", "SIPMediaPipeline", "preload_media", "stop_all_media"]

_counter = itertools.count(1)
# Every pipeline not stopped yet, for stop_all_media() at shutdown.
_live: weakref.WeakSet[SIPMediaPipeline] = weakref.WeakSet()


async def stop_all_media(calls: Any = None) -> int:
    """Stop (NULL state) every call pipeline of this process not stopped yet.

    The runner calls it last at shutdown, after the bots had their chance to end their
    pipelines, so nothing is left half-open.

    Args:
        calls: Only the pipelines of these :class:`SIPCall` objects (``None``: all).

    Returns:
        How many pipelines it had to stop.
    """
    ids = None if calls is None else {id(c) for c in calls}
    left = [m for m in list(_live) if not m._stopped and (ids is None or id(m.call) in ids)]
    for m in left:
        logger.debug(f"{m.name}: stopping the pipeline at shutdown")
    if left:
        await asyncio.gather(*(m.stop() for m in left), return_exceptions=True)
    return len(left)


# State changes (PLAYING, NULL) may wait a little: they run in this pool, shared by
# every call of the process, never on the event loop.
_ctl_pool: ThreadPoolExecutor | None = None

# How often caller audio is read from the pipes (adds 5 ms to the echo on average).
_POLL_PERIOD = 0.010


def _ctl_executor() -> ThreadPoolExecutor:
    global _ctl_pool
    if _ctl_pool is None:
        _ctl_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sip-media-ctl")
    return _ctl_pool


# Every element a call's pipeline may use (sipsink makes its own converter,
# encoder, payloader and udpsink inside).
_CALL_ELEMENTS = ("sipsrc", "sipsink", "appsrc", "fdsink", "capsfilter",
                  "audioconvert", "audioresample")


def _preload_sync() -> None:
    ensure_gst()
    for factory in _CALL_ELEMENTS:
        # the first instance loads the plugin and initialises the class
        element = Gst.ElementFactory.make(factory, None)
        if element is None:
            logger.warning(f"GStreamer element {factory} is missing")


async def preload_media() -> None:
    """Load the GStreamer plugins and element classes of a call's pipeline now.

    The runner calls it before it takes calls, so that the first call is set up as
    fast as the others (loading the plugins took its INVITE->200 from about 16 to
    40-90 ms).
    """
    await asyncio.get_running_loop().run_in_executor(_ctl_executor(), _preload_sync)


class _InputPoller:
    """Reads the caller audio of every call of one event loop, every ``_POLL_PERIOD``."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._media: dict[int, SIPMediaPipeline] = {}  # by the read end of its pipe
        self._epoll = select.epoll()
        self._task: asyncio.Task | None = None

    def add(self, media: SIPMediaPipeline) -> None:
        fd = media._in_fd
        if fd < 0:
            return
        self._epoll.register(fd, select.EPOLLIN)
        self._media[fd] = media
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run(), name="sip-media-input")

    def discard(self, media: SIPMediaPipeline) -> None:
        fd = media._in_fd
        if self._media.get(fd) is media:
            del self._media[fd]
            try:
                self._epoll.unregister(fd)
            except (OSError, ValueError):
                pass

    async def _run(self) -> None:
        loop = self._loop
        next_t = loop.time()
        while self._media:
            # one system call finds the calls with audio waiting
            for fd, _events in self._epoll.poll(0):
                media = self._media.get(fd)
                if media is None:
                    continue
                try:
                    await media._read_input()
                except Exception as e:  # one call's failure must not stop the others
                    logger.error(f"{media.name}: reading caller audio failed: {e}")
                    self.discard(media)
                    # its pipe is no longer drained: end the call before it fills
                    media.hangup()
            next_t += _POLL_PERIOD
            delay = next_t - loop.time()
            if delay < 0:  # late: do not try to catch up with a burst of wake-ups
                next_t = loop.time()
                delay = 0
            await asyncio.sleep(delay)


_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _InputPoller] = (
    weakref.WeakKeyDictionary()
)


def _poller(loop: asyncio.AbstractEventLoop) -> _InputPoller:
    p = _pollers.get(loop)
    if p is None:
        p = _pollers[loop] = _InputPoller(loop)
    return p


@dataclass
class MediaCallbacks:
    """Where the media layer reports to. All but ``on_audio`` run on the asyncio loop.

    Parameters:
        on_audio: Called on the asyncio loop with each chunk of caller audio (S16LE
            mono at the input rate). It may return an awaitable, awaited before the
            next chunk is delivered; it must not block.
        on_dtmf: A DTMF digit (``"0"``-``"9"``, ``"*"``, ``"#"``, ``"A"``-``"D"``) arrived.
        on_connected: The call is up (ACK received).
        on_ended: The call ended; the argument is the end reason.
        on_error: GStreamer reported an error; the argument is its text.
    """

    on_audio: Callable[[bytes], Awaitable[None] | None] | None = None
    on_dtmf: Callable[[str], None] | None = None
    on_connected: Callable[[], None] | None = None
    on_ended: Callable[[str], None] | None = None
    on_error: Callable[[str], None] | None = None


class SIPMediaPipeline:
    """One GStreamer pipeline carrying one call's audio in both directions.

    Typical use (all methods are safe to call from the asyncio loop; the blocking
    ones are coroutines that run GStreamer calls in a worker thread)::

        media = SIPMediaPipeline(call, loop=loop, callbacks=MediaCallbacks(...))
        await media.start(in_sample_rate=16000)
        await media.start_output(out_sample_rate=24000)
        await media.write(pcm_bytes)          # paced by GStreamer
        await media.flush()                   # barge-in
        await media.finish(timeout=10)        # EOS -> BYE after playout
        await media.stop()                    # tear the pipeline down
    """

    def __init__(
        self,
        call: SIPCall,
        *,
        loop: asyncio.AbstractEventLoop,
        callbacks: MediaCallbacks,
        latency_ms: int | None = None,
        out_queue_ms: int = 60,
        auto_silence: bool = True,
        auto_answer: bool = True,
        in_frame_ms: int = 20,
    ):
        """Prepare (but do not build) the pipeline.

        Args:
            call: The call whose media this carries.
            loop: The asyncio loop callbacks are delivered on.
            callbacks: Where to report audio and events.
            latency_ms: ``sipsrc`` jitter-buffer latency; ``None`` keeps the element default.
            out_queue_ms: Most audio appsrc holds before a write blocks.
            auto_silence: Keep RTP flowing with silence while the bot says nothing
                (``sipsink``'s ``send-silence``).
            auto_answer: Answer the call (200 OK) once the pipeline is playing, if it is
                not answered yet.
            in_frame_ms: Length of the caller audio chunks handed to ``on_audio``
                (10 ms steps, at least 10).
        """
        self.call = call
        self._loop = loop
        self._cb = callbacks
        self._latency_ms = latency_ms
        self._out_queue_ms = max(20, out_queue_ms)
        self._auto_silence = auto_silence
        self._auto_answer = auto_answer
        self._in_frame_ms = max(1, int(in_frame_ms) // 10) * 10
        self.name = f"sip-call-{next(_counter)}"

        self.in_sample_rate = 0
        self.out_sample_rate = 0
        self._pipeline: Gst.Pipeline | None = None
        self._appsrc: GstApp.AppSrc | None = None
        # Caller audio: fdsink writes into a pipe, the loop reads the other end.
        self._in_fd = -1
        self._in_wfd = -1
        self._in_frame_bytes = 0
        self._in_buf = bytearray()

        # Output state (all on the asyncio loop).
        self._output_started = False
        # base time on the time.monotonic_ns() scale, once known (see _running_time)
        self._mono_base: int | None = None
        self._next_pts: int | None = None
        self._jitter_margin = 40 * Gst.MSECOND
        self._discont = True
        self._eos_sent = False

        self._src_answers = False
        self._started = False
        self._stopped = False
        self._connected = False
        self._ended = False
        self._end_reason: str | None = None
        self._ended_event = asyncio.Event()
        self._state_handler_id: int | None = None
        self._bus_handler_id = 0

        # Statistics (bytes of output audio actually handed to appsrc, bot audio only).
        self.bytes_pushed = 0
        self.flushes = 0
        _live.add(self)

    # ------------------------------------------------------------------ state

    @property
    def ended(self) -> bool:
        """Whether the call has ended."""
        return self._ended

    @property
    def end_reason(self) -> str | None:
        """Why the call ended, once it has."""
        return self._end_reason

    @property
    def pipeline(self) -> Gst.Pipeline | None:
        """The GStreamer pipeline (``None`` before :meth:`start` and after :meth:`stop`)."""
        return self._pipeline

    # ------------------------------------------------------------------ build

    def _make(self, factory: str, name: str | None = None) -> Gst.Element:
        el = Gst.ElementFactory.make(factory, name)
        if el is None:
            raise RuntimeError(f"cannot create GStreamer element {factory}")
        return el

    def _build(self) -> None:
        ensure_gst()
        p = Gst.Pipeline.new(self.name)

        src = self._make("sipsrc", "sipsrc")
        src.set_property("call", self.call.sip_call)
        # every call's RTP on the few receive threads shared by the process (no
        # thread per call); nothing below sipsrc waits: fdsink (sync=false) writes
        # into a pipe the loop keeps draining
        if src.find_property("shared-threads") is not None:
            src.set_property("shared-threads", True)
        if self._latency_ms is not None and src.find_property("latency") is not None:
            src.set_property("latency", int(self._latency_ms))
        # the server's SIP_MEDIA_TIMEOUT: sipsrc hangs up (SIP_MAX_DURATION is the
        # call's own, enforced by the agent)
        if self.call.media_timeout is not None:
            src.set_property("media-timeout", int(self.call.media_timeout))
        # sipsrc answers a handed-over call itself once its media is ready (auto-answer);
        # without that property we answer after PLAYING (see _start_sync).
        self._src_answers = src.find_property("auto-answer") is not None
        if self._src_answers:
            src.set_property("auto-answer", bool(self._auto_answer))
        # No queue and no signal: the receive thread never waits for Python's GIL
        # (it writes into a pipe the loop reads), so a busy interpreter cannot hold up
        # the other calls. The pipe holds 64 kB (2 s at 16 kHz).
        in_caps = Gst.Caps.from_string(
            f"audio/x-raw,format=S16LE,layout=interleaved,rate={self.in_sample_rate},channels=1"
        )
        # sipsrc gives S16LE mono at 8 kHz: when that is the input rate, the
        # converters would only pass buffers through (a cost per packet for nothing).
        src_caps = src.get_static_pad("src").get_pad_template_caps()
        if src_caps.is_fixed() and src_caps.is_equal(in_caps):
            convert_in: list[Gst.Element] = []
        else:
            convert_in = [self._make("audioconvert", "in_convert"),
                          self._make("audioresample", "in_resample")]
        caps_in = self._make("capsfilter", "in_caps")
        caps_in.set_property("caps", in_caps)
        sink = self._make("fdsink", "in_sink")
        rfd, wfd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(rfd, False)
        self._in_fd, self._in_wfd = rfd, wfd
        sink.set_property("fd", wfd)
        sink.set_property("sync", False)
        sink.set_property("async", False)

        appsrc = self._make("appsrc", "appsrc")
        appsrc.set_property("format", Gst.Format.TIME)
        appsrc.set_property("is-live", True)
        appsrc.set_property("do-timestamp", False)
        appsrc.set_property("block", False)  # paced by write(), never blocks the loop
        appsrc.set_property("emit-signals", False)
        # sipsink converts and resamples any raw audio itself, and sends silence while
        # the bot says nothing (the timeline restarts when it speaks again: _push)
        sipsink = self._make("sipsink", "sipsink")
        sipsink.set_property("send-silence", self._auto_silence)

        chain_in = [src, *convert_in, caps_in, sink]
        for el in (*chain_in, appsrc, sipsink):
            p.add(el)
        if not all(a.link(b) for a, b in zip(chain_in, chain_in[1:])):
            raise RuntimeError("cannot link sipsrc ! audioconvert ! audioresample ! fdsink")
        if not appsrc.link(sipsink):
            raise RuntimeError("cannot link appsrc ! sipsink")

        bus = p.get_bus()
        # the sync-message signal, not Bus.set_sync_handler(): a sync handler set from
        # Python kept the call's elements, and with them its RTP port pair, alive after
        # the pipeline was stopped (the pool then refused the next call with 503)
        bus.enable_sync_message_emission()
        self._bus_handler_id = bus.connect("sync-message", self._on_bus_message)

        self._pipeline = p
        self._appsrc = appsrc

    # ------------------------------------------------------------------ start/stop

    async def start(self, in_sample_rate: int) -> None:
        """Build the pipeline, set it PLAYING and answer the call (if not answered yet).

        Args:
            in_sample_rate: Rate of the audio handed to ``on_audio`` (Pipecat's input rate).
        """
        if self._started:
            return
        self._started = True
        self.call.media_started = True
        self.in_sample_rate = int(in_sample_rate)
        self._in_frame_bytes = self.in_sample_rate * self._in_frame_ms // 1000 * 2
        try:
            self._state_handler_id = self.call.sip_call.connect(
                "state-changed", self._on_call_state_changed
            )
        except TypeError:
            self._state_handler_id = None
        try:
            await self._in_ctl(self._start_sync)
        except BaseException:
            self._close_input()
            raise
        if not self._stopped:
            _poller(self._loop).add(self)
        # The call may have been answered and acknowledged before we were listening.
        self._check_call_state()

    def _start_sync(self) -> None:
        self._build()
        assert self._pipeline is not None
        ret = self._pipeline.set_state(Gst.State.PLAYING)
        if ret == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError(f"{self.name}: cannot set the pipeline to PLAYING")
        logger.debug(f"{self.name}: pipeline playing ({ret.value_nick}) for {self.call}")
        if (self._auto_answer and not self._src_answers
                and self.call.state in ("incoming", "ringing")):
            logger.debug(f"{self.name}: answering {self.call.call_id}")
            self.call.answer()

    async def start_output(self, out_sample_rate: int) -> None:
        """Set the bot's output rate and start sending (silence until the bot speaks).

        Args:
            out_sample_rate: Rate of the audio given to :meth:`write` (Pipecat's output rate).
        """
        if self._output_started or self._stopped:
            return
        self.out_sample_rate = int(out_sample_rate)
        appsrc = self._appsrc
        if appsrc is None:
            raise RuntimeError("start() must come before start_output()")
        appsrc.set_property(
            "caps",
            Gst.Caps.from_string(
                f"audio/x-raw,format=S16LE,layout=interleaved,rate={self.out_sample_rate},channels=1"
            ),
        )
        # write() keeps the queue near out_queue_ms; the limit is only a backstop.
        appsrc.set_property("max-bytes", self._bytes_for_ms(1000))
        self._output_started = True

    async def stop(self) -> None:
        """Tear the pipeline down (NULL state) and stop the writer thread. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        _live.discard(self)
        _poller(self._loop).discard(self)
        await self._in_ctl(self._stop_sync)

    def _stop_sync(self) -> None:
        if self._pipeline is not None:
            self._pipeline.set_state(Gst.State.NULL)
            bus = self._pipeline.get_bus()
            bus.disconnect(self._bus_handler_id)
            bus.disable_sync_message_emission()
            bus.set_flushing(True)  # drop the messages queued behind the signal
        if self._state_handler_id is not None:
            try:
                self.call.sip_call.disconnect(self._state_handler_id)
            except (TypeError, ValueError, AttributeError):
                pass
            self._state_handler_id = None
        self._pipeline = None
        self._appsrc = None
        self._close_input()
        logger.debug(f"{self.name}: pipeline stopped")

    def _close_input(self) -> None:
        # Only once fdsink is stopped (NULL): it writes into the pipe until then.
        for fd in (self._in_fd, self._in_wfd):
            if fd >= 0:
                os.close(fd)
        self._in_fd = self._in_wfd = -1

    def hangup(self) -> None:
        """Hang the call up now (BYE), without waiting for queued audio."""
        if not self.call.ended:
            self.call.hangup()

    async def finish(self, timeout: float = 10.0) -> bool:
        """End the bot's audio (EOS into appsrc) and wait until the call has hung up.

        ``sipsink`` sends BYE once the last queued audio has been played out. If the
        call does not end within ``timeout`` seconds it is hung up at once.

        Args:
            timeout: Most seconds to wait for playout and BYE.

        Returns:
            Whether the call ended by itself after playout (``False``: forced hang-up).
        """
        if self._ended:
            return True
        appsrc = self._appsrc
        if appsrc is None or not self._output_started:
            self.hangup()
            return False
        if not self._eos_sent:
            # Every write() has pushed its audio already: EOS goes right behind it.
            self._eos_sent = True
            logger.debug(f"{self.name}: end of bot audio (EOS into appsrc)")
            appsrc.end_of_stream()
        try:
            await asyncio.wait_for(self._ended_event.wait(), timeout)
            return True
        except (TimeoutError, asyncio.TimeoutError):
            logger.warning(f"{self.name}: call did not end {timeout}s after EOS; hanging up")
            self.hangup()
            return False

    # ------------------------------------------------------------------ output

    def _bytes_for_ms(self, ms: float) -> int:
        return int(self.out_sample_rate * ms / 1000) * 2

    async def _in_ctl(self, fn: Callable[[], None]) -> None:
        await self._loop.run_in_executor(_ctl_executor(), fn)

    async def write(self, audio: bytes) -> bool:
        """Queue bot audio (S16LE mono at the output rate) for the call.

        The audio goes into appsrc at once; the call then sleeps while more than
        ``out_queue_ms`` of audio waits ahead of the clock, so successive writes are
        paced like an audio device.

        Args:
            audio: PCM bytes.

        Returns:
            ``False`` if the call is over or output is not running.
        """
        if self._stopped or self._ended or not self._output_started or self._eos_sent:
            return False
        if not audio:
            return True
        appsrc = self._appsrc
        if appsrc is None:
            return False
        ret = self._push(appsrc, bytes(audio))
        if ret == Gst.FlowReturn.OK:
            self.bytes_pushed += len(audio)
        ahead = self._ahead()
        limit = self._out_queue_ms * Gst.MSECOND
        if ahead > limit:
            await asyncio.sleep((ahead - limit) / Gst.SECOND)
        return not (self._stopped or self._ended)

    def _ahead(self) -> int:
        """Nanoseconds of audio queued ahead of the clock (-1: nothing queued)."""
        if self._next_pts is None:
            return -1
        return self._next_pts - self._running_time()

    async def flush(self) -> None:
        """Drop all queued bot audio at once (barge-in).

        Everything still in appsrc, the converters and the RTP payloader is dropped
        with flush-start/flush-stop(reset_time=False); the next audio is timestamped
        from the current running time.
        """
        appsrc = self._appsrc
        if appsrc is None or self._stopped:
            return
        # Both events return quickly (appsrc never blocks: block=FALSE), so they run
        # on the loop, in order with the writes.
        appsrc.send_event(Gst.Event.new_flush_start())
        appsrc.send_event(Gst.Event.new_flush_stop(False))
        self._next_pts = None
        self._discont = True
        self.flushes += 1
        logger.debug(f"{self.name}: output flushed")

    def _running_time(self) -> int:
        base = self._mono_base
        if base is not None:
            return time.monotonic_ns() - base
        pipeline = self._pipeline
        if pipeline is None:
            return 0
        clock = pipeline.get_clock()
        if clock is None:
            return 0
        base_time = pipeline.get_base_time()
        now = clock.get_time()
        if (base_time and isinstance(clock, Gst.SystemClock)
                and clock.props.clock_type == Gst.ClockType.MONOTONIC):
            # The usual pipeline clock is CLOCK_MONOTONIC, as time.monotonic_ns(): read
            # it without three GObject calls per buffer from now on.
            self._mono_base = base_time - (now - time.monotonic_ns())
        return now - base_time

    def _push(self, appsrc: GstApp.AppSrc, data: bytes) -> Gst.FlowReturn:
        pipeline = self._pipeline
        if pipeline is None:
            return Gst.FlowReturn.FLUSHING
        n_samples = len(data) // 2
        duration = n_samples * Gst.SECOND // self.out_sample_rate
        now = self._running_time()
        if self._next_pts is None or self._next_pts < now:
            # First buffer, after a flush, or after an underrun: restart the timeline a
            # little ahead of "now", so that audio produced just in time (an echo, a
            # streaming TTS) survives scheduling hiccups without gaps.
            self._next_pts = max(now, 0) + self._jitter_margin
            self._discont = True
        buf = Gst.Buffer.new_wrapped(data)
        buf.pts = self._next_pts
        buf.duration = duration
        if self._discont:
            buf.set_flags(Gst.BufferFlags.DISCONT)
            self._discont = False
        self._next_pts += duration
        return appsrc.push_buffer(buf)

    # ------------------------------------------------------------------ input

    async def _read_input(self) -> None:
        """Deliver the caller audio waiting in the pipe (called by the input poller).

        The pipe is drained even once stopping: its writer is a receive thread that
        every call depends on, and fdsink writes until the pipeline is down.
        """
        if self._in_fd < 0:
            return
        try:
            data = os.read(self._in_fd, 65536)
        except BlockingIOError:
            return
        if self._stopped:
            return
        buf = self._in_buf
        buf += data
        n = self._in_frame_bytes
        cb = self._cb.on_audio
        while len(buf) >= n and not self._stopped:
            frame = bytes(buf[:n])
            del buf[:n]
            if cb is None:
                continue
            try:
                r = cb(frame)
                if r is not None:
                    await r
            except Exception as e:  # a bot's failure must not stop the poller
                logger.error(f"{self.name}: on_audio callback failed: {e}")

    # ------------------------------------------------------------------ events

    def _call_soon(self, fn: Callable[..., None] | None, *args: Any) -> None:
        if fn is None:
            return
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # loop closed

    def _check_call_state(self) -> None:
        st = self.call.state
        if st == "active":
            self._set_connected()
        elif st == "ended":
            self._set_ended_from_call()

    def _set_ended_from_call(self) -> None:
        self._set_ended(self.call.end_reason or "ended")

    def _ended_by_state(self) -> None:
        # While the pipeline runs, sipsrc's sip-call-ended message reports the end,
        # with its own reason for its own BYE (media-timeout: only "local-bye" for
        # the library); the call's state is the fallback.
        if self._pipeline is not None and not self._stopped:
            self._loop.call_later(0.5, self._set_ended_from_call)
        else:
            self._set_ended_from_call()

    def _set_connected(self) -> None:
        if self._connected or self._ended:
            return
        self._connected = True
        if self._cb.on_connected:
            self._cb.on_connected()

    def _set_ended(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._end_reason = reason
        self._ended_event.set()
        logger.debug(f"{self.name}: call {self.call.call_id} ended ({reason})")
        if self._cb.on_ended:
            self._cb.on_ended(reason)

    def _on_call_state_changed(self, _sip_call: Any, state: Any) -> None:
        # Agent thread.
        nick = getattr(state, "value_nick", None) or str(state).rsplit("_", 1)[-1].lower()
        if nick == "active":
            self._call_soon(self._set_connected)
        elif nick == "ended":
            self._call_soon(self._ended_by_state)

    def _on_bus_message(self, _bus: Gst.Bus, msg: Gst.Message) -> Gst.BusSyncReply:
        # Any GStreamer thread.
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            name = s.get_name() if s is not None else ""
            if name == "sip-dtmf":
                digit = s.get_string("digit")
                if digit:
                    self._call_soon(self._cb.on_dtmf, digit)
            elif name == "sip-call-ended":
                reason = s.get_string("reason") or "ended"
                self.call.note_end_reason(reason)
                # the call's reason: the runner may have noted why it hung up first
                self._call_soon(self._set_ended, self.call.end_reason or reason)
            elif name == "sip-call-answered":
                pass  # on_connected comes with the ACK (state "active")
        elif t == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            src = msg.src.get_name() if msg.src is not None else "?"
            text = f"{src}: {err.message}"
            logger.error(f"{self.name}: GStreamer error from {text} ({dbg})")
            self._call_soon(self._cb.on_error, text)
        elif t == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            logger.warning(f"{self.name}: GStreamer warning: {err.message} ({dbg})")
        elif t == Gst.MessageType.EOS:
            logger.debug(f"{self.name}: pipeline EOS")
        return Gst.BusSyncReply.DROP

    def __repr__(self) -> str:
        """Short description for logs."""
        return f"<SIPMediaPipeline {self.name} {self.call.call_id}>"
