#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Run a Pipecat ``bot(runner_args)`` on SIP calls, or hand over to Pipecat's runner.

A quickstart-style ``bot.py`` gains SIP with two imports and one
``transport_params`` entry::

    from pipecat_sip import SIPParams
    from pipecat_sip.runner import create_transport, main

    transport_params = {
        "daily": lambda: DailyParams(audio_in_enabled=True, audio_out_enabled=True),
        "webrtc": lambda: TransportParams(audio_in_enabled=True, audio_out_enabled=True),
        "sip": lambda: SIPParams(audio_in_enabled=True, audio_out_enabled=True),
    }

    async def bot(runner_args):
        transport = await create_transport(runner_args, transport_params)
        ...

    if __name__ == "__main__":
        main()

``python bot.py -t sip`` (or ``--transport sip``) answers SIP calls with the settings
from the environment (``SIP_SERVER_HOST``, ``SIP_SERVER_PORT``, ``SIP_RTP_PORT_RANGE``,
``SIP_PUBLIC_ADDRESS``, ``SIP_ALLOWED_SOURCES``, ``SIP_MAX_CALLS``,
``SIP_INVITE_RATE_LIMIT``, ``SIP_SHUTDOWN_TIMEOUT``, ``SIP_MEDIA_TIMEOUT``,
``SIP_MAX_DURATION``, ``SIP_WORKERS``, ``SIP_ANSWER``, ``SIP_USER_AGENT``; see
:mod:`pipecat_sip.config`) and runs ``bot()`` once per answered call, many calls at
once, each with its own GStreamer pipeline. Any other ``-t`` (or none) runs
``pipecat.runner.run.main()`` unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

from pipecat.runner.types import CallData, RunnerArguments
from pipecat.transports.base_transport import BaseTransport, TransportParams

from pipecat_sip.call import SIPCall
from pipecat_sip.config import SIPConfigError, SIPServerConfig
from pipecat_sip.media import preload_media, stop_all_media
from pipecat_sip.server import SIPServer, SIPServerError, guess_public_host
from pipecat_sip.transport import SIPParams, SIPTransport
from pipecat_sip.workers import SIPWorkers, worker_role, worker_share

__all__ = [
    "SIPRunnerArguments",
    "create_transport",
    "main",
    "run_sip_server",
]

BotFunction = Callable[[Any], Awaitable[None]]

# After the agent stopped (BYE to every call), how long the bots get to end their
# pipelines before their tasks are cancelled.
_SESSION_END_GRACE = 5.0
# How often a worker process checks that its dispatcher is still there.
_PARENT_CHECK_PERIOD = 1.0


@dataclass
class SIPRunnerArguments(RunnerArguments):
    """Runner arguments for one SIP call.

    ``call_data`` (Pipecat's :class:`~pipecat.runner.types.CallData`) is filled in too:
    ``call_id``, ``from_number`` (caller's user part), ``to_number`` (dialled user part),
    and ``body`` with the INVITE headers.

    Parameters:
        call: The call (Call-ID, From, To, remote address, INVITE headers).
    """

    call: SIPCall


def _sip_params(params: Any) -> SIPParams:
    if isinstance(params, SIPParams):
        return params
    if isinstance(params, TransportParams):
        fields = {
            name: getattr(params, name)
            for name in type(params).model_fields
            if name in SIPParams.model_fields and name in params.model_fields_set
        }
        return SIPParams(**fields)
    raise TypeError(f'transport_params["sip"]() must return SIPParams, not {type(params).__name__}')


async def create_transport(
    runner_args: Any, transport_params: dict[str, Callable[[], Any]]
) -> BaseTransport:
    """Create the transport for a session: SIP for a SIP call, else Pipecat's choice.

    Args:
        runner_args: The runner arguments given to ``bot()``.
        transport_params: Transport name -> parameter factory, as for Pipecat's
            ``create_transport``, with a ``"sip"`` entry for SIP calls.

    Returns:
        A :class:`SIPTransport` for :class:`SIPRunnerArguments`, otherwise the transport
        ``pipecat.runner.utils.create_transport`` builds.

    Raises:
        ValueError: if ``transport_params`` has no ``"sip"`` entry for a SIP call.
    """
    if isinstance(runner_args, SIPRunnerArguments):
        factory = transport_params.get("sip")
        if factory is None:
            raise ValueError(
                'Missing factory for transport type "sip" in transport_params: add '
                '"sip": lambda: SIPParams(audio_in_enabled=True, audio_out_enabled=True)'
            )
        return SIPTransport(runner_args.call, _sip_params(factory()))

    from pipecat.runner.utils import create_transport as pipecat_create_transport

    return await pipecat_create_transport(runner_args, transport_params)


def _get_bot_function() -> BotFunction:
    main_module = sys.modules.get("__main__")
    fn = getattr(main_module, "bot", None)
    if fn is None:
        try:
            import bot as bot_module  # type: ignore[import-not-found]

            fn = getattr(bot_module, "bot", None)
        except ImportError:
            fn = None
    if fn is None or not inspect.iscoroutinefunction(fn):
        raise ImportError(
            "Could not find an async 'bot(runner_args)' function in the calling script."
        )
    return fn


def _runner_args_for(call: SIPCall) -> SIPRunnerArguments:
    args = SIPRunnerArguments(
        call=call,
        session_id=call.call_id,
        body=call.to_dict(),
        call_data=CallData(
            call_id=call.call_id,
            from_number=call.from_user,
            to_number=call.to_user,
            body=dict(call.headers),
        ),
    )
    return args


def _install_shutdown_signals(
    loop: asyncio.AbstractEventLoop,
    drain: asyncio.Event,
    stop: asyncio.Event,
) -> list[int]:
    """SIGINT/SIGTERM: the first sets ``drain`` (graceful shutdown), a second one sets
    ``stop``. Returns the signals whose handlers it set."""

    def on_signal(sig: int) -> None:
        if drain.is_set() or stop.is_set():
            logger.warning(f"{signal.Signals(sig).name} again: stopping now")
            stop.set()
        else:
            drain.set()

    installed: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    return installed


async def _run_dispatcher(
    config: SIPServerConfig,
    *,
    stop: asyncio.Event,
    drain: asyncio.Event,
    on_ready: Callable[[SIPWorkers], None] | None,
    handle_signals: bool,
) -> None:
    # SIP_WORKERS > 1, in the process that was started: the bots run in the workers
    loop = asyncio.get_running_loop()
    workers = SIPWorkers(config)
    installed = _install_shutdown_signals(loop, drain, stop) if handle_signals else []
    try:
        try:
            await workers.start()
            if on_ready is not None:
                on_ready(workers)
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(drain.wait())}
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in waits:
                    t.cancel()
            if not stop.is_set():
                logger.info(
                    f"Shutting down: new calls get 503; active calls get up to "
                    f"{config.shutdown_timeout:g} s (signal again to stop now)"
                )
        finally:
            # stop set while the workers drain (a second signal, stop_event): they
            # stop now
            stop_now = asyncio.ensure_future(stop.wait())
            stop_now.add_done_callback(
                lambda f: f.cancelled() or workers.signal_workers(signal.SIGINT)
            )
            try:
                await workers.stop(drain=not stop.is_set())
            finally:
                stop_now.cancel()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


# how often the runner looks whether a call whose bot runs has ended
_CALL_END_CHECK_PERIOD = 1.0


async def _cancel_stuck_bot(call: SIPCall, bot_task: asyncio.Task) -> None:
    """Cancel ``bot_task`` if the agent ended ``call`` at its ``max_duration`` before
    any media pipeline took it, and the bot still runs ``_SESSION_END_GRACE`` s later.

    The agent hangs every answered call up at its ``max_duration`` (``SIP_MAX_DURATION``,
    or what the bot set); a bot stuck before it creates its transport (the call answered
    with ``SIP_ANSWER=immediately``) is never told, and would hold the call's RTP ports
    for as long as it runs.
    """
    while not call.ended:
        await asyncio.sleep(_CALL_END_CHECK_PERIOD)
    if call.end_reason != "max-duration" or call.media_started:
        return
    await asyncio.sleep(_SESSION_END_GRACE)
    if not bot_task.done():
        logger.warning(f"bot() still runs {_SESSION_END_GRACE:g} s after call {call.call_id} "
                       f"ended at its max_duration before it took the call: cancelling it")
        bot_task.cancel()


async def _stop_when_orphaned(stop: asyncio.Event, dispatcher_pid: int) -> None:
    # A worker whose dispatcher died (SIGKILL, crash) would hold its calls, the SIP
    # port and RTP ports with nobody relaying SIP to it: it ends its calls and exits.
    while not stop.is_set():
        if os.getppid() != dispatcher_pid:
            logger.error("SIP dispatcher gone: stopping this worker")
            stop.set()
            return
        await asyncio.sleep(_PARENT_CHECK_PERIOD)


async def run_sip_server(
    bot: BotFunction,
    config: SIPServerConfig,
    *,
    stop_event: asyncio.Event | None = None,
    drain_event: asyncio.Event | None = None,
    on_ready: Callable[[SIPServer | SIPWorkers], None] | None = None,
    handle_signals: bool = True,
    cli_args: argparse.Namespace | None = None,
) -> None:
    """Answer SIP calls and run ``bot(runner_args)`` once per call until stopped.

    Args:
        bot: The bot coroutine function.
        config: Server settings.
        stop_event: Set it to stop the server now: active calls get a BYE.
        drain_event: Set it for a graceful shutdown: new INVITEs get 503, active calls
            go on until they end or ``config.shutdown_timeout`` seconds passed (or
            ``stop_event`` is set), then the rest get a BYE.
        on_ready: Called once the SIP socket is bound (e.g. to print how to call); with
            ``config.workers > 1``, with the :class:`~pipecat_sip.workers.SIPWorkers`
            once every worker takes calls.
        handle_signals: Install SIGINT/SIGTERM handlers: the first signal sets
            ``drain_event`` (graceful shutdown), a second one ``stop_event``.
        cli_args: Parsed command line, passed on as ``runner_args.cli_args``.

    With ``config.workers > 1`` (``SIP_WORKERS``) this process becomes a dispatcher
    and starts that many worker processes, each running this program again and
    ``bot`` on its share of the calls (see :mod:`pipecat_sip.workers`).

    Raises:
        SIPServerError: if the server cannot start (port in use, missing library, ...).
    """
    loop = asyncio.get_running_loop()
    stop = stop_event or asyncio.Event()
    drain = drain_event or asyncio.Event()
    worker = worker_role() if config.workers > 1 else None
    if config.workers > 1 and worker is None:
        # this process dispatches; the bots run in worker processes
        await _run_dispatcher(
            config, stop=stop, drain=drain, on_ready=on_ready, handle_signals=handle_signals
        )
        return
    relay_copy: socket.socket | None = None
    orphan_watch: asyncio.Task | None = None
    if worker is not None:
        config = worker_share(config, worker.index, worker.count)
        # the agent takes the relay descriptor over; readiness goes through a copy
        relay_copy = socket.socket(fileno=os.dup(worker.relay_fd))
        orphan_watch = loop.create_task(_stop_when_orphaned(stop, worker.dispatcher_pid))
        # the dispatcher stops its workers with SIGTERM (drain) and SIGINT (now)
        handle_signals = True
    sessions: set[asyncio.Task] = set()
    live_calls: dict[int, SIPCall] = {}  # calls whose bot() has not finished

    server: SIPServer

    async def run_call(call: SIPCall) -> None:
        runner_args = _runner_args_for(call)
        runner_args.cli_args = cli_args
        task = asyncio.current_task()
        watch = loop.create_task(_cancel_stuck_bot(call, task)) if task is not None else None
        try:
            await bot(runner_args)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logger.exception(f"bot() failed on call {call.call_id}: {e}")
        finally:
            if watch is not None:
                watch.cancel()
            if not call.ended:
                logger.debug(f"bot() returned on call {call.call_id}; hanging up")
                call.hangup()
            server.forget(call)
            # Whatever the bot did, the call's pipeline ends in NULL.
            await stop_all_media([call])
            # its RTP ports go back to the pool now, whatever still refers to the call
            call.release()
            live_calls.pop(id(call), None)

    def on_call(call: SIPCall) -> None:
        live_calls[id(call)] = call
        task = loop.create_task(run_call(call), name=f"sip-call-{call.call_id}")
        sessions.add(task)
        task.add_done_callback(sessions.discard)

    # the first call then costs what the others do
    await preload_media()
    server = SIPServer(config, on_call, loop, worker=worker)
    server.start()

    installed = _install_shutdown_signals(loop, drain, stop) if handle_signals else []
    # Everything loaded by now (Pipecat, the GStreamer bindings, the bot's modules)
    # lives as long as the process: keep it out of the cyclic collector's sight, so
    # a full collection during calls walks only the calls' own objects. With all of
    # Pipecat tracked one took 145 ms at 100 calls, and a live call's audio that
    # waits that long is late for good. (Objects are still freed by reference count.)
    gc.collect()
    gc.freeze()
    try:
        if worker is not None and relay_copy is not None:
            worker.notify_ready(relay_copy)
            relay_copy.close()
        elif on_ready is not None:
            on_ready(server)
        stop_wait = asyncio.ensure_future(stop.wait())
        drain_wait = asyncio.ensure_future(drain.wait())
        try:
            await asyncio.wait({stop_wait, drain_wait}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_wait.cancel()
            drain_wait.cancel()
        if drain.is_set() and not stop.is_set():
            timeout = config.shutdown_timeout
            server.drain()
            active = server.active_calls
            logger.info(
                f"Shutting down: new calls get 503; waiting up to {timeout:g} s for "
                f"{active} active call(s) to end (signal again to stop now)"
            )
            if await server.wait_idle(timeout, stop):
                logger.info("All calls ended")
            elif not stop.is_set():
                logger.info(f"{server.active_calls} call(s) still active after {timeout:g} s")
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        logger.info("Stopping: hanging up active calls")
        await server.stop()
        # The agent ended every call (BYE); the bots see on_client_disconnected and
        # end their pipelines. Give them a moment, then cancel what is left.
        if sessions:
            grace = 1.0 if stop.is_set() else _SESSION_END_GRACE
            await asyncio.wait(list(sessions), timeout=grace)
        for t in list(sessions):
            t.cancel()
        if sessions:
            await asyncio.wait(list(sessions), timeout=10)
        # Nothing half-open: every call's GStreamer pipeline is in NULL.
        await stop_all_media(list(live_calls.values()))
        live_calls.clear()
        if orphan_watch is not None:
            orphan_watch.cancel()


def _print_banner(server: SIPServer | SIPWorkers) -> None:
    host = guess_public_host(server.config)
    port = server.bound_port
    hostport = f"[{host}]" if ":" in host else host
    uri = f"sip:bot@{hostport}:{port}"
    lines = [
        "",
        "=" * 68,
        f" Pipecat bot answering SIP calls on UDP port {port}",
        f"   call it:   {uri}",
        f"   baresip:   baresip -e \"/dial {uri}\"",
        f"   Linphone:  call {uri} (G.711 u-law/PCMU enabled)",
        f"   RTP ports: {server.config.rtp_port_range_str} (UDP; open them in the firewall)",
        *(
            [f"   workers:   {server.config.workers} processes run the bots (SIP_WORKERS)"]
            if server.config.workers > 1
            else []
        ),
        f" Ctrl-C/SIGTERM: new calls get 503, active ones get up to "
        f"{server.config.shutdown_timeout:g} s, then a BYE;",
        " a second Ctrl-C stops at once.",
        "=" * 68,
        "",
    ]
    print("\n".join(lines), flush=True)


def main(
    bot: BotFunction | None = None,
    *,
    default_transport: str | None = None,
    argv: list[str] | None = None,
) -> None:
    """Start the runner: SIP with ``-t sip``, Pipecat's own runner otherwise.

    Args:
        bot: The bot coroutine function (default: ``bot`` of the calling script).
        default_transport: Transport used when ``-t`` is not given (``None`` hands
            over to Pipecat's runner, which serves all its transports).
        argv: Command line (default: ``sys.argv[1:]``).
    """
    args_in = sys.argv[1:] if argv is None else list(argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("-t", "--transport", default=None)
    known, _rest = pre.parse_known_args(args_in)
    transport = known.transport or default_transport

    if transport != "sip":
        from pipecat.runner.run import main as pipecat_main

        if argv is not None:
            sys.argv = [sys.argv[0], *args_in]
        if known.transport is None and default_transport:
            sys.argv = [sys.argv[0], "-t", default_transport, *args_in]
        pipecat_main()
        return

    parser = argparse.ArgumentParser(
        description="Pipecat bot on SIP calls (gst-sip). Settings come from the environment: "
        "SIP_SERVER_HOST (0.0.0.0), SIP_SERVER_PORT (6060), SIP_RTP_PORT_RANGE (10000-15000), "
        "SIP_PUBLIC_ADDRESS, SIP_ALLOWED_SOURCES (CIDR list), SIP_MAX_CALLS (0 = no limit), "
        "SIP_INVITE_RATE_LIMIT (10 new INVITEs/s per source, 0 = no limit), "
        "SIP_SHUTDOWN_TIMEOUT (10 s for active calls to end after SIGINT/SIGTERM), "
        "SIP_MEDIA_TIMEOUT (30 s without caller RTP: BYE, 0 = never), "
        "SIP_MAX_DURATION (0 = calls of any length), "
        "SIP_WORKERS (1 process; one per core holds more calls), "
        "SIP_ANSWER (when-ready: 200 OK once the bot's pipeline runs; immediately: on the INVITE), "
        "SIP_USER_AGENT.",
    )
    parser.add_argument("-t", "--transport", default="sip", help="sip (other values: Pipecat's runner)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    args = parser.parse_args(args_in)

    logger.remove()
    logger.add(sys.stderr, level="TRACE" if args.verbose > 1 else ("DEBUG" if args.verbose else "INFO"))

    try:
        config = SIPServerConfig.from_env()
    except SIPConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)

    try:
        bot_fn = bot or _get_bot_function()
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)

    try:
        asyncio.run(run_sip_server(bot_fn, config, on_ready=_print_banner, cli_args=args))
    except SIPServerError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
