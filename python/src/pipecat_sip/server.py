#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""The SIP server: a ``Sip.Agent`` (C library, own thread) answering calls for asyncio.

The agent runs its own GLib main context in its own thread and emits
``incoming-call`` there; :class:`SIPServer` takes each call, sends 180 Ringing and
hands a :class:`~pipecat_sip.call.SIPCall` to a callback on the asyncio loop. The call
is answered (200 OK) by the call's :class:`~pipecat_sip.transport.SIPTransport` once
its media pipeline plays, or by the server on the INVITE with
``SIP_ANSWER=immediately`` (:attr:`SIPServerConfig.answer`).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from loguru import logger

from pipecat_sip._gi import GLib, load_sip
from pipecat_sip.call import SIPCall
from pipecat_sip.config import ANSWER_IMMEDIATELY, ANSWER_MODES, SIPServerConfig
from pipecat_sip.workers import WorkerRole

__all__ = ["SIPServer", "SIPServerError", "guess_public_host"]


class SIPServerError(RuntimeError):
    """The SIP server could not start (port in use, bad setting, missing library)."""


def guess_public_host(config: SIPServerConfig) -> str:
    """The address to tell callers: public address, listen address, or this host's IP.

    Args:
        config: The server settings.

    Returns:
        A host (IP address or name) for ``sip:bot@HOST:PORT``.
    """
    if config.public_address:
        return config.public_address
    if config.host not in ("0.0.0.0", "::", ""):
        return config.host
    # Find the address of the interface holding the default route. A UDP connect
    # sends nothing; it only asks the kernel for a route.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            addr = s.getsockname()[0]
            if addr and not addr.startswith("0."):
                return addr
    except OSError:
        pass
    return "127.0.0.1"


class SIPServer:
    """Answers SIP calls with the gst-sip C library and hands them to asyncio.

    Example::

        server = SIPServer(SIPServerConfig.from_env(), on_call=handle_call)
        server.start()            # raises SIPServerError (port in use, ...)
        ...
        await server.stop()       # BYE to every active call
    """

    def __init__(
        self,
        config: SIPServerConfig,
        on_call: Callable[[SIPCall], None],
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        worker: WorkerRole | None = None,
    ):
        """Prepare the server.

        Args:
            config: Listen address, port, RTP range and policy.
            on_call: Called on the asyncio loop with each new (ringing) call.
            loop: The loop to deliver calls on (default: the running loop).
            worker: In a worker process (``SIP_WORKERS``): answer on the dispatcher's
                SIP socket and read what it relays, instead of binding the port.
        """
        self.config = config
        self._on_call = on_call
        self._loop = loop
        self._agent: Any = None
        self._handler_id: int | None = None
        self._calls: dict[str, SIPCall] = {}
        self._worker = worker

    @property
    def bound_port(self) -> int:
        """The SIP UDP port actually bound (useful with port 0)."""
        if self._agent is None:
            return 0
        try:
            return int(self._agent.get_bound_port())
        except (AttributeError, TypeError):
            return int(self._agent.get_property("bound-port"))

    @property
    def agent(self) -> Any:
        """The ``Sip.Agent`` (``None`` before :meth:`start`)."""
        return self._agent

    def start(self) -> None:
        """Bind the SIP socket and start the agent's thread.

        Raises:
            SIPServerError: if the port is in use, a setting is refused, or the library
                is missing.
        """
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        if self.config.answer not in ANSWER_MODES:
            raise SIPServerError(
                f"SIPServerConfig.answer={self.config.answer!r}: expected "
                + " or ".join(ANSWER_MODES)
            )
        try:
            Sip = load_sip()
        except Exception as e:
            raise SIPServerError(str(e)) from e
        agent = Sip.Agent.new() if hasattr(Sip.Agent, "new") else Sip.Agent()
        cfg = self.config
        agent.set_property("host", cfg.host)
        agent.set_property("port", int(cfg.port))
        agent.set_property("rtp-port-range", cfg.rtp_port_range_str)
        if cfg.public_address:
            agent.set_property("public-address", cfg.public_address)
        if cfg.allowed_sources:
            agent.set_property("allowed-sources", ",".join(cfg.allowed_sources))
        agent.set_property("max-calls", int(cfg.max_calls))
        agent.set_property("invite-rate-limit", int(cfg.invite_rate_limit))
        # the agent hangs every answered call up at SIP_MAX_DURATION, on its own timer
        agent.set_property("max-call-duration", int(cfg.max_duration))
        if cfg.user_agent:
            agent.set_property("user-agent", cfg.user_agent)
        if self._worker is not None:
            agent.set_property("socket-fd", self._worker.sip_fd)
            agent.set_property("relay-fd", self._worker.relay_fd)
        self._handler_id = agent.connect("incoming-call", self._on_incoming_call)
        try:
            agent.start()
        except GLib.Error as e:
            agent.disconnect(self._handler_id)
            self._handler_id = None
            msg = e.message or str(e)
            if "port" in msg.lower() and ("use" in msg.lower() or "bind" in msg.lower()):
                raise SIPServerError(f"SIP_SERVER_PORT={cfg.port}: {msg}") from None
            raise SIPServerError(f"SIP server did not start: {msg}") from None
        self._agent = agent
        who = "SIP server" if self._worker is None else f"SIP worker {self._worker.index}"
        logger.info(
            f"{who} listening on {cfg.host} UDP port {self.bound_port} "
            f"(RTP {cfg.rtp_port_range_str})"
        )

    def _on_incoming_call(self, _agent: Any, sip_call: Any) -> bool:
        # Agent thread: take the call, ring (or answer), hand it over to asyncio.
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        call = SIPCall(sip_call)
        call.media_timeout = self.config.media_timeout
        where = "" if self._worker is None else f"SIP worker {self._worker.index}: "
        logger.info(
            f"{where}Incoming call {call.call_id} from {call.caller.uri} to {call.callee.uri}"
        )
        self._calls[call.call_id] = call
        # The 200 OK (or 180) is queued in the agent's thread before the loop sees the
        # call, so that it goes out before anything the bot does with the call (a
        # reject() then hangs up an answered call instead of refusing it).
        answered = self.config.answer == ANSWER_IMMEDIATELY
        try:
            if answered:
                call.answer()
            else:
                call.ring()
        except Exception as e:
            logger.warning(f"cannot send the {'200 OK' if answered else '180 Ringing'} "
                           f"for {call.call_id}: {e}")
        try:
            loop.call_soon_threadsafe(self._deliver, call)
        except RuntimeError:  # the loop closed just now
            self._calls.pop(call.call_id, None)
            if not answered:
                return False  # the agent rejects it (480)
            call.hangup()
        return True

    def _deliver(self, call: SIPCall) -> None:
        try:
            self._on_call(call)
        except Exception as e:
            logger.exception(f"call handler failed for {call.call_id}: {e}")
            call.hangup()

    def forget(self, call: SIPCall) -> None:
        """Drop the server's reference to an ended call.

        Args:
            call: The call.
        """
        self._calls.pop(call.call_id, None)

    @property
    def active_calls(self) -> int:
        """Calls the agent has not ended yet (ringing or answered)."""
        if self._agent is None:
            return 0
        try:
            return int(self._agent.get_active_calls())
        except (AttributeError, TypeError):
            return int(self._agent.get_property("active-calls"))

    @property
    def draining(self) -> bool:
        """Whether :meth:`drain` was called: new INVITEs get 503."""
        return self._agent is not None and bool(self._agent.get_property("draining"))

    def drain(self) -> None:
        """Start a graceful shutdown: new INVITEs get 503 with Retry-After, the calls
        already there go on. Follow with :meth:`wait_idle` and :meth:`stop`."""
        if self._agent is not None:
            self._agent.drain()

    async def wait_idle(self, timeout: float, stop: asyncio.Event | None = None) -> bool:
        """Wait until no call is active, ``timeout`` seconds passed or ``stop`` is set.

        Args:
            timeout: Longest wait in seconds.
            stop: Ends the wait early when set.

        Returns:
            Whether every call had ended.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while self.active_calls > 0:
            left = deadline - loop.time()
            if left <= 0 or (stop is not None and stop.is_set()):
                return False
            await asyncio.sleep(min(0.1, left))
        return True

    async def stop(self) -> None:
        """Stop the agent: BYE to active calls, reject ringing ones, close sockets."""
        agent = self._agent
        if agent is None:
            return
        self._agent = None
        await asyncio.to_thread(agent.stop)
        if self._handler_id is not None:
            try:
                agent.disconnect(self._handler_id)
            except (TypeError, ValueError):
                pass
            self._handler_id = None
        self._calls.clear()
        logger.info("SIP server stopped")
