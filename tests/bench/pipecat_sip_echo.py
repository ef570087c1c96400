#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""System under test 2 (issue 5): the pipecat_sip runner with the Pipecat echo bot.

Answers SIP calls on UDP ``--port`` and runs :func:`echo_bot.run_bot` once per call,
each call with its own GStreamer pipeline (sipsrc/sipsink). Prints ``READY`` once the
SIP socket is bound; SIGTERM hangs up the calls and ends the process::

    .venv/bin/python tests/bench/pipecat_sip_echo.py --port 6070 --rtp-port-range 20000-29999
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loguru import logger  # noqa: E402

from echo_bot import SAMPLE_RATE, run_bot  # noqa: E402
from pipecat_sip import SIPParams  # noqa: E402
from pipecat_sip.config import SIPServerConfig  # noqa: E402
from pipecat_sip.runner import create_transport, run_sip_server  # noqa: E402


def _port_range(text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("-")
    if not sep or not lo.strip().isdigit() or not hi.strip().isdigit() or int(hi) <= int(lo):
        raise argparse.ArgumentTypeError(f"expected LOW-HIGH, not {text!r}")
    return int(lo), int(hi)


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=6060, help="SIP UDP port")
    p.add_argument("--rtp-port-range", type=_port_range, default="10000-15000", help="RTP ports, LOW-HIGH")
    p.add_argument("--host", default="127.0.0.1", help="listen address (SIP and RTP)")
    p.add_argument("--bot", choices=("echo", "listen", "bargein"), default="echo", help="bot mode")
    p.add_argument("--in-frame-ms", type=int, default=SIPParams.model_fields["audio_in_frame_ms"].default,
                   help="SIPParams.audio_in_frame_ms (default: its default)")
    p.add_argument("--workers", type=int, default=1, help="SIP_WORKERS: processes running the bots")
    p.add_argument("--answer", choices=("when-ready", "immediately"), default="when-ready",
                   help="SIP_ANSWER: 200 OK once the bot runs, or on the INVITE")
    p.add_argument("--asyncio-loop", action="store_true", help="standard asyncio loop, not uvloop")
    p.add_argument("--log-level", default="WARNING", help="loguru level (WARNING: quiet under load)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the server until SIGTERM/SIGINT."""
    args = _args(argv)
    logger.remove()
    logger.add(sys.stderr, level=args.log_level)
    config = SIPServerConfig(
        host=args.host,
        port=args.port,
        rtp_port_range=args.rtp_port_range,
        invite_rate_limit=0,  # the load generator places every call from one address
        shutdown_timeout=0.0,  # SIGTERM: BYE to every call at once
        workers=args.workers,
        answer=args.answer,
    )

    async def bot(runner_args: Any) -> None:
        transport = await create_transport(
            runner_args,
            {
                "sip": lambda: SIPParams(
                    audio_in_enabled=True,
                    audio_out_enabled=True,
                    audio_in_sample_rate=SAMPLE_RATE,
                    audio_out_sample_rate=SAMPLE_RATE,
                    audio_in_frame_ms=args.in_frame_ms,
                )
            },
        )
        await run_bot(transport, args.bot)

    def ready(_server: Any) -> None:
        print("READY", flush=True)

    # The same event loop as the websocket reference (uvicorn picks uvloop when
    # installed); --asyncio-loop keeps the standard one.
    server = run_sip_server(bot, config, on_ready=ready)
    if args.asyncio_loop:
        asyncio.run(server)
        return
    try:
        import uvloop  # type: ignore[import-not-found]
    except ImportError:
        asyncio.run(server)
    else:
        uvloop.run(server)


if __name__ == "__main__":
    main()
