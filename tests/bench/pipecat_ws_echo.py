#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Reference b (issue 5): what Pipecat users run today for phone calls.

Modelled on Pipecat's Twilio example and its development runner: a FastAPI websocket
endpoint ``/ws`` (Twilio Media Streams connect there), ``parse_telephony_websocket``
to read the ``connected``/``start`` messages, ``TwilioFrameSerializer`` (8 kHz u-law
in base64 JSON; ``auto_hang_up=False`` as there is no Twilio account) and
``FastAPIWebsocketTransport`` (``add_wav_header=False``), served by uvicorn with its
defaults (as ``pipecat.runner.run`` does). The bot is the same :mod:`echo_bot` as
behind the SIP runner. ``--workers N`` serves it from N processes accepting on the
one port, as uvicorn's ``--workers`` does (the SIP runner's ``SIP_WORKERS``
counterpart). Prints ``READY`` once listening; SIGTERM ends it::

    .venv/bin/python tests/bench/pipecat_ws_echo.py --port 8765 [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import uvicorn  # noqa: E402
from uvicorn._compat import asyncio_run  # noqa: E402
from fastapi import FastAPI, WebSocket  # noqa: E402
from loguru import logger  # noqa: E402

from echo_bot import SAMPLE_RATE, run_bot  # noqa: E402
from pipecat.runner.types import WebSocketRunnerArguments  # noqa: E402
from pipecat.runner.utils import parse_telephony_websocket  # noqa: E402
from pipecat.serializers.twilio import TwilioFrameSerializer  # noqa: E402
from pipecat.transports.websocket.fastapi import (  # noqa: E402
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)


def make_app(mode: str) -> FastAPI:
    """The FastAPI app with the Twilio Media Streams websocket endpoint.

    Args:
        mode: Bot mode (``echo`` or ``bargein``).

    Returns:
        The app.
    """
    app = FastAPI()

    async def bot(runner_args: WebSocketRunnerArguments) -> None:
        _transport_type, call_data = await parse_telephony_websocket(runner_args.websocket)
        serializer = TwilioFrameSerializer(
            stream_sid=call_data["stream_id"],
            call_sid=call_data["call_id"],
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
        )
        transport = FastAPIWebsocketTransport(
            websocket=runner_args.websocket,
            params=FastAPIWebsocketParams(
                audio_in_enabled=True,
                audio_out_enabled=True,
                audio_in_sample_rate=SAMPLE_RATE,
                audio_out_sample_rate=SAMPLE_RATE,
                add_wav_header=False,
                serializer=serializer,
            ),
        )
        await run_bot(transport, mode)

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await bot(WebSocketRunnerArguments(websocket=websocket, session_id=str(uuid.uuid4())))

    return app


def _exit_0(_sig: int, _frame: object) -> None:
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal under the
    # handler it found: make that an exit with status 0.
    raise SystemExit(0)


async def _serve(server: uvicorn.Server, sockets: list[socket.socket] | None = None,
                 on_started: Callable[[], None] = lambda: print("READY", flush=True)) -> None:
    task = asyncio.create_task(server.serve(sockets=sockets))
    while not server.started:
        if task.done():
            await task  # raises what stopped it (port in use, ...)
            raise SystemExit(1)
        await asyncio.sleep(0.05)
    on_started()
    await task


def _serve_in_processes(config: uvicorn.Config, workers: int) -> None:
    """Fork ``workers`` processes that accept on one listening socket, as uvicorn's
    ``--workers`` does; READY once each is serving; SIGTERM/SIGINT stop them all, and
    one that exits stops the others."""
    sock = config.bind_socket()
    ready_r, ready_w = os.pipe()
    children: set[int] = set()

    def _stop(_sig: int = 0, _frame: object = None) -> None:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    # before the fork: a signal during start-up must reach the children too
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(ready_r)
                signal.signal(signal.SIGTERM, _exit_0)
                signal.signal(signal.SIGINT, _exit_0)

                def _tell_ready() -> None:
                    os.write(ready_w, b"r")

                asyncio_run(_serve(uvicorn.Server(config), [sock], _tell_ready),
                            loop_factory=config.get_loop_factory())
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            finally:
                os._exit(code)  # never the parent's exit handlers
        children.add(pid)
    os.close(ready_w)
    started, ready_open = 0, True
    while children:
        if ready_open:
            readable, _, _ = select.select([ready_r], [], [], 0.1)
            if readable:
                got = os.read(ready_r, workers)
                ready_open = bool(got)
                started += len(got)
                if got and started == workers:
                    print("READY", flush=True)
        else:
            time.sleep(0.1)
        pid, _status = os.waitpid(-1, os.WNOHANG)
        if pid:
            children.discard(pid)
            _stop()  # one gone (died, or stopped by a signal): stop the rest
    os.close(ready_r)
    if started < workers:
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn's own signal handling)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8765, help="HTTP port")
    p.add_argument("--host", default="127.0.0.1", help="listen address")
    p.add_argument("--bot", choices=("echo", "listen", "bargein"), default="echo", help="bot mode")
    p.add_argument("--log-level", default="WARNING", help="loguru level (WARNING: quiet under load)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes accepting on the one port (uvicorn's --workers); 1: this one")
    args = p.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level=args.log_level)
    config = uvicorn.Config(make_app(args.bot), host=args.host, port=args.port, log_level="warning")
    if args.workers > 1:
        _serve_in_processes(config, args.workers)
        return
    server = uvicorn.Server(config)
    signal.signal(signal.SIGTERM, _exit_0)
    # The event loop uvicorn.run() (Pipecat's runner) would use: uvloop when installed.
    asyncio_run(_serve(server), loop_factory=config.get_loop_factory())


if __name__ == "__main__":
    main()
