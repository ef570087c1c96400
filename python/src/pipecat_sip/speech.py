#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""Offline speech prompts rendered with espeak-ng (no network, no API key)."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import wave

import numpy as np
import soxr

__all__ = ["SpeechRenderError", "render_speech", "render_speech_sync"]

_cache: dict[tuple[str, int, str, int], bytes] = {}


class SpeechRenderError(RuntimeError):
    """espeak-ng is missing or failed."""


def render_speech_sync(text: str, sample_rate: int, *, voice: str = "en-us", wpm: int = 160) -> bytes:
    """Render ``text`` to 16-bit mono PCM at ``sample_rate`` with espeak-ng.

    Args:
        text: What to say.
        sample_rate: Output rate in Hz.
        voice: espeak-ng voice.
        wpm: Speaking rate, words per minute.

    Returns:
        S16LE mono PCM bytes.

    Raises:
        SpeechRenderError: if espeak-ng is not installed or fails.
    """
    key = (text, sample_rate, voice, wpm)
    if key in _cache:
        return _cache[key]
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SpeechRenderError("espeak-ng is not installed (apt-get install espeak-ng)")
    try:
        proc = subprocess.run(
            [exe, "-v", voice, "-s", str(wpm), "--stdout", text],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise SpeechRenderError(f"espeak-ng failed: {e}") from e
    with wave.open(io.BytesIO(proc.stdout), "rb") as w:
        rate = w.getframerate()
        channels = w.getnchannels()
        frames = w.readframes(w.getnframes())
    pcm = np.frombuffer(frames, dtype=np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1).astype(np.int16)
    if rate != sample_rate:
        pcm = soxr.resample(pcm, rate, sample_rate, quality="HQ").astype(np.int16)
    data = pcm.tobytes()
    _cache[key] = data
    return data


async def render_speech(text: str, sample_rate: int, *, voice: str = "en-us", wpm: int = 160) -> bytes:
    """Async wrapper of :func:`render_speech_sync` (runs in a worker thread).

    Args:
        text: What to say.
        sample_rate: Output rate in Hz.
        voice: espeak-ng voice.
        wpm: Speaking rate, words per minute.

    Returns:
        S16LE mono PCM bytes.
    """
    return await asyncio.to_thread(render_speech_sync, text, sample_rate, voice=voice, wpm=wpm)
