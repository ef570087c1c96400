#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Pipecat quickstart bot, reachable by phone over SIP (and by Daily or WebRTC).

Speech-to-Text (Deepgram) -> LLM (OpenAI) -> Text-to-Speech (Cartesia), with
Pipecat's bundled Silero VAD finding the caller's turns.

Required keys (in .env next to this file or in the environment):
DEEPGRAM_API_KEY, OPENAI_API_KEY, CARTESIA_API_KEY.

Run it::

    ../../.venv/bin/python bot.py --transport sip     # answers SIP calls on UDP port 6060
    ../../.venv/bin/python bot.py --transport webrtc  # Pipecat's own runner, as usual
    ../../.venv/bin/python bot.py --transport daily

and call ``sip:bot@YOUR_HOST:6060`` from a softphone, a PBX or a SIP trunk. SIP settings
come from the environment or from a .env beside this file (read below with
load_dotenv): SIP_SERVER_PORT and the others in ../.env.example.
"""

import os

from dotenv import load_dotenv
from loguru import logger

from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import LLMRunFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.runner.types import RunnerArguments
from pipecat.services.cartesia.tts import CartesiaTTSService
from pipecat.services.deepgram.stt import DeepgramSTTService
from pipecat.services.openai.llm import OpenAILLMService
from pipecat.transports.base_transport import BaseTransport, TransportParams
from pipecat.transports.daily.transport import DailyParams
from pipecat.workers.runner import WorkerRunner

from pipecat_sip import SIPParams, SIPTransport
from pipecat_sip.runner import create_transport, main

load_dotenv(override=True)

SYSTEM_INSTRUCTION = (
    "You are a helpful assistant on a phone call. Your responses will be spoken aloud, "
    "so avoid emojis, bullet points, or other formatting that can't be spoken. Respond to "
    "what the caller said in a creative, helpful, and brief way."
)


async def run_bot(transport: BaseTransport, runner_args: RunnerArguments):
    """Run the voice bot for one session (one phone call with SIP)."""
    logger.info("Starting bot")

    stt = DeepgramSTTService(api_key=os.getenv("DEEPGRAM_API_KEY"))

    tts = CartesiaTTSService(
        api_key=os.getenv("CARTESIA_API_KEY"),
        settings=CartesiaTTSService.Settings(
            voice=os.getenv("CARTESIA_VOICE_ID", "86e30c1d-714b-4074-a1f2-1cb6b552fb49"),
        ),
    )

    llm = OpenAILLMService(
        api_key=os.getenv("OPENAI_API_KEY"),
        settings=OpenAILLMService.Settings(
            model=os.getenv("OPENAI_MODEL", "gpt-4.1"),
            system_instruction=SYSTEM_INSTRUCTION,
        ),
    )

    context = LLMContext()
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer()),
    )

    pipeline = Pipeline(
        [
            transport.input(),  # caller audio (SIP: resampled by GStreamer)
            stt,
            user_aggregator,
            llm,
            tts,
            transport.output(),  # bot audio to the caller
            assistant_aggregator,
        ]
    )

    # A phone call is 8 kHz G.711: run the pipeline at 8 kHz on SIP (the transport would
    # resample anything else in GStreamer, but there is nothing to gain).
    is_sip = isinstance(transport, SIPTransport)
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(
            enable_metrics=True,
            enable_usage_metrics=True,
            **({"audio_in_sample_rate": 8000, "audio_out_sample_rate": 8000} if is_sip else {}),
        ),
        idle_timeout_secs=runner_args.pipeline_idle_timeout_secs,
    )

    @transport.event_handler("on_client_connected")
    async def on_client_connected(transport, client):
        if is_sip:
            # client is a pipecat_sip.SIPCall: caller, dialled number, INVITE headers.
            logger.info(f"Call {client.call_id} from {client.from_user} to {client.to_user}")
        else:
            logger.info("Client connected")
        # Kick off the conversation.
        context.add_message({"role": "developer", "content": "Start by concisely introducing yourself."})
        await worker.queue_frames([LLMRunFrame()])

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(transport, client):
        logger.info("Client disconnected")
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=runner_args.handle_sigint)
    await runner.add_workers(worker)
    await runner.run()


async def bot(runner_args: RunnerArguments):
    """Main bot entry point (once per session; for SIP, once per answered call)."""
    transport_params = {
        "daily": lambda: DailyParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
        ),
        "webrtc": lambda: TransportParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
        ),
        "sip": lambda: SIPParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
        ),
    }

    transport = await create_transport(runner_args, transport_params)

    await run_bot(transport, runner_args)


if __name__ == "__main__":
    main()
