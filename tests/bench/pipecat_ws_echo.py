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
behind the SIP runner. Prints ``READY`` once listening; SIGTERM ends it::

    .venv/bin/python tests/bench/pipecat_ws_echo.py --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import uuid
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


async def _serve(server: uvicorn.Server) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # raises what stopped it (port in use, ...)
            raise SystemExit(1)
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    await task


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn's own signal handling)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8765, help="HTTP port")
    p.add_argument("--host", default="127.0.0.1", help="listen address")
    p.add_argument("--bot", choices=("echo", "bargein"), default="echo", help="bot mode")
    p.add_argument("--log-level", default="WARNING", help="loguru level (WARNING: quiet under load)")
    args = p.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level=args.log_level)
    config = uvicorn.Config(make_app(args.bot), host=args.host, port=args.port, log_level="warning")
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal under the
    # handler it found: make that an exit with status 0.
    def _exit(_sig: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)
    # The event loop uvicorn.run() (Pipecat's runner) would use: uvloop when installed.
    asyncio_run(_serve(server), loop_factory=config.get_loop_factory())


if __name__ == "__main__":
    main()
