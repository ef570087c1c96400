#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Several worker processes answering calls on one SIP port (``SIP_WORKERS``).

A process runs Python on one core at a time, and a Pipecat pipeline costs most of a
call's CPU: one process holds as many calls as one core can run their bots for. With
``SIP_WORKERS=N`` the runner becomes a dispatcher in front of N workers:

- the dispatcher binds the SIP socket and starts N worker processes, each the same
  command line again (``sys.orig_argv``) with ``PIPECAT_SIP_WORKER`` in the
  environment, so each imports the same bot;
- it reads every SIP datagram and relays it to one worker, chosen by a hash of the
  Call-ID, so every request and response of a dialog reaches the same worker; the
  relay is an ``AF_UNIX`` socket pair per worker, and each datagram goes prefixed
  by the address it came from (``SipAgent:relay-fd``);
- a worker answers from the shared SIP socket (``SipAgent:socket-fd``), so callers
  see one address and port; it binds its own share of ``SIP_RTP_PORT_RANGE`` for RTP,
  which never passes through the dispatcher;
- ``SIP_MAX_CALLS`` and ``SIP_INVITE_RATE_LIMIT`` are shared out the same way: each
  worker applies its part (rounded up) to the calls it gets, so a worker may refuse a
  call while another still has room, and the rate limit holds only on average;
- SIGINT/SIGTERM to the dispatcher are passed on: the workers drain and stop as a
  single server would; a worker that dies is started again (its calls are lost),
  and a worker whose dispatcher is gone stops.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from typing import Any

from loguru import logger

from pipecat_sip.config import SIPConfigError, SIPServerConfig

__all__ = ["SIPWorkers", "WorkerRole", "worker_for_datagram", "worker_role", "worker_share"]

# What a worker process finds in its environment:
# "index/count/sip fd/relay fd/dispatcher pid".
WORKER_ENV = "PIPECAT_SIP_WORKER"
_READY = b"ready"
# The most bytes a SIP datagram may have (the agent's own limit is lower).
_MAX_DATAGRAM = 65535
_CALL_ID_RE = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
# A worker that died is started again after this long (a crash loop stays slow).
_RESPAWN_DELAY = 1.0
# After the workers' own shutdown time, how long the dispatcher waits before SIGKILL.
_STOP_GRACE = 15.0


@dataclass(frozen=True)
class WorkerRole:
    """What a worker process was started as (see :func:`worker_role`)."""

    index: int
    count: int
    sip_fd: int
    relay_fd: int
    dispatcher_pid: int

    def notify_ready(self, relay: socket.socket) -> None:
        """Tell the dispatcher this worker takes calls (through ``relay``, a copy of
        its end of the relay pair)."""
        try:
            relay.send(_READY)
        except OSError as e:
            logger.warning(f"SIP worker {self.index}: cannot tell the dispatcher it is ready: {e}")


_role: WorkerRole | None = None


def worker_role() -> WorkerRole | None:
    """The role of this process when a dispatcher started it, else ``None``.

    The first call takes the role over: ``PIPECAT_SIP_WORKER`` leaves the environment
    and the two descriptors are no longer inherited, so that the programs a bot starts
    (ffmpeg, a TTS helper, Python again) neither hold the SIP socket nor take
    themselves for workers. Later calls return the same role.
    """
    global _role
    if _role is not None:
        return _role
    text = os.environ.get(WORKER_ENV)
    if not text:
        return None
    expected = "expected index/count/sip-fd/relay-fd/dispatcher-pid"
    try:
        index, count, sip_fd, relay_fd, pid = (int(p) for p in text.split("/"))
    except ValueError:
        raise SIPConfigError(WORKER_ENV, text, expected) from None
    if not (0 <= index < count) or sip_fd < 0 or relay_fd < 0 or pid <= 0:
        raise SIPConfigError(WORKER_ENV, text, expected)
    try:
        os.set_inheritable(sip_fd, False)
        os.set_inheritable(relay_fd, False)
    except OSError as e:
        raise SIPConfigError(WORKER_ENV, text, f"a descriptor is not open ({e.strerror})") from None
    _role = WorkerRole(index, count, sip_fd, relay_fd, pid)
    del os.environ[WORKER_ENV]
    return _role


def worker_share(config: SIPServerConfig, index: int, count: int) -> SIPServerConfig:
    """The settings of worker ``index`` of ``count``: its part of the RTP port range,
    of ``max_calls`` and of ``invite_rate_limit``.

    Raises:
        SIPConfigError: if the RTP range has fewer RTP+RTCP pairs than workers.
    """
    lo, hi = config.rtp_port_range
    first = lo + lo % 2
    pairs = (hi - first + 1) // 2 // count
    if pairs < 1:
        raise SIPConfigError(
            "SIP_RTP_PORT_RANGE",
            config.rtp_port_range_str,
            f"too small for {count} workers (each needs an even RTP port and the next)",
        )
    start = first + index * pairs * 2

    def part(n: int) -> int:
        return math.ceil(n / count) if n else 0

    return dataclasses.replace(
        config,
        rtp_port_range=(start, start + pairs * 2 - 1),
        max_calls=part(config.max_calls),
        invite_rate_limit=part(config.invite_rate_limit),
        workers=1,
    )


def worker_for_datagram(datagram: bytes, count: int) -> int:
    """The worker a SIP datagram goes to: by its Call-ID, so a dialog stays on one
    worker; one without a Call-ID (garbage, keep-alives) goes to worker 0, which
    answers or drops it as a single server would."""
    head = datagram.split(b"\r\n\r\n", 1)[0]
    m = _CALL_ID_RE.search(head)
    if m is None:
        return 0
    return zlib.crc32(m.group(1)) % count


def _relay_prefix(address: tuple[Any, ...]) -> bytes:
    """The source prefix of a relayed datagram (``SipAgent:relay-fd``).

    4, the port (2 bytes), the IPv4 address; or 6, the port, the IPv6 address (16
    bytes), its scope id (4 bytes; a link-local caller is answered on its interface).
    Numbers in network order.

    Args:
        address: What ``recvfrom`` returned: ``(host, port)`` or
            ``(host, port, flowinfo, scope_id)``.
    """
    if len(address) == 2:
        host, port = address
        return struct.pack("!BH4s", 4, port, socket.inet_pton(socket.AF_INET, host))
    host, port, _flowinfo, scope_id = address
    ip = socket.inet_pton(socket.AF_INET6, host.split("%")[0])
    return struct.pack("!BH16sI", 6, port, ip, scope_id)


class _Worker:
    def __init__(self, index: int):
        self.index = index
        self.process: subprocess.Popen[bytes] | None = None
        self.relay: socket.socket | None = None  # the dispatcher's end
        self.ready = asyncio.Event()


class SIPWorkers:
    """The dispatcher: the SIP socket, N worker processes and the relays between.

    Example::

        workers = SIPWorkers(config)      # config.workers > 1
        await workers.start()             # raises SIPServerError
        ...
        await workers.stop(drain=True)
    """

    def __init__(self, config: SIPServerConfig):
        """Prepare the dispatcher (nothing is bound or started yet).

        Args:
            config: The server's settings; ``config.workers`` processes are started.
        """
        self.config = config
        self._sock: socket.socket | None = None
        self._workers = [_Worker(i) for i in range(config.workers)]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watch: asyncio.Task | None = None
        self._stopping = False
        self._started = False  # every worker took calls once
        self.dropped = 0  # datagrams a worker's relay could not take

    @property
    def bound_port(self) -> int:
        """The SIP UDP port actually bound (useful with port 0)."""
        return self._sock.getsockname()[1] if self._sock is not None else 0

    @property
    def worker_pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [w.process.pid for w in self._workers if w.process and w.process.poll() is None]

    async def start(self, timeout: float = 60.0) -> None:
        """Bind the SIP socket, start the workers and wait until each takes calls.

        Raises:
            SIPServerError: the port cannot be bound, or a worker did not start.
        """
        from pipecat_sip.server import SIPServerError

        if not sys.orig_argv[1:]:
            raise SIPServerError("SIP_WORKERS needs a script or module to start again")
        try:  # every share must fit before anything starts
            worker_share(self.config, 0, len(self._workers))
        except SIPConfigError as e:
            raise SIPServerError(str(e)) from None
        self._loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((self.config.host, self.config.port))
        except OSError as e:
            sock.close()
            raise SIPServerError(
                f"SIP_SERVER_PORT={self.config.port}: cannot bind SIP port "
                f"{self.config.port} on {self.config.host} ({e.strerror or e})"
            ) from None
        sock.setblocking(False)
        self._sock = sock
        self._loop.add_reader(sock.fileno(), self._on_sip_readable)
        for w in self._workers:
            self._spawn(w)
        self._watch = self._loop.create_task(self._watch_workers())
        try:
            await asyncio.wait_for(
                asyncio.gather(*(w.ready.wait() for w in self._workers)), timeout
            )
        except asyncio.TimeoutError:
            await self.stop(drain=False)
            raise SIPServerError(f"the SIP workers did not start within {timeout:g} s") from None
        if self._stopping:
            raise SIPServerError("a SIP worker exited while starting (see its log above)")
        self._started = True
        logger.info(
            f"SIP dispatcher listening on {self.config.host} UDP port {self.bound_port}, "
            f"{len(self._workers)} workers (pids {', '.join(map(str, self.worker_pids))})"
        )

    def _spawn(self, w: _Worker) -> None:
        assert self._sock is not None and self._loop is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        ours.setblocking(False)
        env = dict(os.environ)
        env[WORKER_ENV] = (
            f"{w.index}/{len(self._workers)}/{self._sock.fileno()}/{theirs.fileno()}/{os.getpid()}"
        )
        try:
            # a session of its own: Ctrl-C reaches the dispatcher only, which passes
            # the signal on once
            w.process = subprocess.Popen(
                [sys.executable, *sys.orig_argv[1:]],
                env=env,
                pass_fds=(self._sock.fileno(), theirs.fileno()),
                start_new_session=True,
            )
        finally:
            theirs.close()
        w.relay = ours
        w.ready.clear()
        self._loop.add_reader(ours.fileno(), self._on_relay_readable, w)

    def _on_sip_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        count = len(self._workers)
        for _ in range(64):
            try:
                datagram, source = sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # e.g. an ICMP error queued on the socket
                logger.debug(f"SIP socket: {e}")
                continue
            w = self._workers[worker_for_datagram(datagram, count)]
            if w.relay is None:
                self.dropped += 1
                continue
            try:
                w.relay.send(_relay_prefix(source) + datagram)
            except (BlockingIOError, OSError):
                # UDP semantics: the sender retransmits
                self.dropped += 1

    def _on_relay_readable(self, w: _Worker) -> None:
        relay = w.relay
        if relay is None:
            return
        try:
            message = relay.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            message = b""
        if message == _READY:
            w.ready.set()

    def _close_relay(self, w: _Worker) -> None:
        if w.relay is not None:
            if self._loop is not None:
                self._loop.remove_reader(w.relay.fileno())
            w.relay.close()
            w.relay = None

    async def _watch_workers(self) -> None:
        reported_drops, drops_logged_at = 0, 0.0
        while True:
            await asyncio.sleep(0.2)
            if self.dropped != reported_drops and time.monotonic() - drops_logged_at >= 10:
                logger.warning(
                    f"SIP dispatcher: {self.dropped - reported_drops} datagram(s) dropped, "
                    f"a worker's relay queue was full (the senders will retransmit)"
                )
                reported_drops, drops_logged_at = self.dropped, time.monotonic()
            for w in self._workers:
                if w.process is None or w.process.poll() is None:
                    continue
                code = w.process.returncode
                self._close_relay(w)
                if self._stopping:
                    continue
                if not self._started:
                    # it never took calls: starting it again would fail the same way
                    logger.error(f"SIP worker {w.index} exited while starting (status {code})")
                    self._stopping = True
                    for other in self._workers:
                        other.ready.set()  # start() returns and reports it
                    continue
                logger.error(
                    f"SIP worker {w.index} (pid {w.process.pid}) exited with status {code}; "
                    f"starting it again (its calls are lost)"
                )
                w.process = None
                await asyncio.sleep(_RESPAWN_DELAY)
                if not self._stopping:
                    try:
                        self._spawn(w)
                    except OSError as e:  # no fds, no memory: its calls go nowhere
                        logger.error(f"SIP worker {w.index} cannot be started again: {e}")
                        continue
                    logger.info(f"SIP worker {w.index} started again (pid {w.process.pid})")

    def signal_workers(self, sig: int) -> None:
        """Send ``sig`` to every running worker."""
        for w in self._workers:
            if w.process is not None and w.process.poll() is None:
                try:
                    w.process.send_signal(sig)
                except ProcessLookupError:
                    pass

    async def wait_exited(self, timeout: float | None = None) -> bool:
        """Wait until every worker has exited; ``False`` if ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while any(w.process is not None and w.process.poll() is None for w in self._workers):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    async def stop(self, drain: bool) -> None:
        """Stop the workers, then close the SIP socket.

        Args:
            drain: Let active calls go on for ``config.shutdown_timeout`` seconds (new
                INVITEs get 503) before the rest get a BYE; ``False``: BYE at once.
        """
        self._stopping = True
        # SIGTERM: a worker drains; SIGINT as well: it stops now (two different
        # signals, so that they cannot merge into one)
        self.signal_workers(signal.SIGTERM)
        if not drain:
            self.signal_workers(signal.SIGINT)
        # SIP keeps flowing meanwhile: ACKs, BYEs and their answers
        limit = (self.config.shutdown_timeout if drain else 0) + _STOP_GRACE
        if not await self.wait_exited(limit):
            logger.warning("SIP workers still running; killing them")
            self.signal_workers(signal.SIGKILL)
            await self.wait_exited(5.0)
        if self._watch is not None:
            self._watch.cancel()
        for w in self._workers:
            self._close_relay(w)
        if self._sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

