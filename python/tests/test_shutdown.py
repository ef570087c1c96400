"""Graceful shutdown of the runner (a real process, real calls): SIGTERM/SIGINT refuse
new calls with 503 while active ones go on for SIP_SHUTDOWN_TIMEOUT seconds, then the
rest get a BYE, every pipeline ends in NULL, and the process exits 0."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import pytest

from test_demo import start_demo

pytestmark = pytest.mark.usefixtures("c_parts")


async def wait_for(pred, timeout: float, what: str, log=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s:\n{log()[-3000:]}")


def call_over(caller) -> bool:
    return bool(re.search(r"terminated \(duration|session closed|Call failed", caller.log))


async def test_sigterm_drains_then_byes_and_exits_0(procs, baresip, audio):
    timeout = 4.0
    p, uri = await start_demo(procs, SIP_SHUTDOWN_TIMEOUT=str(timeout))
    first = baresip(uri, audio.silence_wav, seconds=60, user="first")
    await wait_for(lambda: first.established, 20, "first call established", lambda: first.log)
    await asyncio.sleep(1.0)

    os.kill(p.pid, signal.SIGTERM)
    t0 = time.monotonic()
    await wait_for(lambda: "Shutting down" in p.output(), 5, "drain log line", p.output)

    # A new call during the drain: 503, and it never reaches a bot.
    second = baresip(uri, audio.silence_wav, seconds=20, user="second")
    await second.wait_call_end(10)
    assert "503" in second.log, second.log[-2000:]
    assert not second.established, second.log[-2000:]
    assert not call_over(first), "the active call ended right away:\n" + first.log[-2000:]
    assert p.poll() is None, "the runner did not wait for the active call"

    # The active call goes on until the timeout, then gets a BYE.
    await wait_for(lambda: call_over(first), timeout + 10, "BYE to the active call",
                   lambda: first.log)
    took = time.monotonic() - t0
    print(f"active call ended {took:.1f} s after SIGTERM (timeout {timeout} s)")
    assert took >= timeout - 0.5, first.log[-2000:]
    assert "Call failed" not in first.log, first.log[-2000:]

    rc = await p.wait(20)
    out = p.output()
    assert rc == 0, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert "still active after" in out, out[-3000:]
    assert "SIP server stopped" in out, out[-3000:]
    # the demo's call pipeline was torn down (NULL state)
    assert "pipeline stopped" in out, out[-3000:]
    await first.wait(5)


async def test_drain_ends_early_when_calls_end(procs, baresip, audio):
    """The runner exits as soon as the last call has ended, not after the timeout."""
    p, uri = await start_demo(procs, SIP_SHUTDOWN_TIMEOUT="60")
    caller = baresip(uri, audio.silence_wav, seconds=8)
    await wait_for(lambda: caller.established, 20, "call established", lambda: caller.log)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGINT)
    rc = await p.wait(30)
    took = time.monotonic() - t0
    out = p.output()
    assert rc == 0, out[-3000:]
    assert took < 20, f"exited {took:.1f} s after SIGINT"
    assert "All calls ended" in out, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    await caller.wait(5)


async def test_second_signal_stops_at_once(procs, baresip, audio):
    p, uri = await start_demo(procs, SIP_SHUTDOWN_TIMEOUT="60")
    caller = baresip(uri, audio.silence_wav, seconds=60)
    await wait_for(lambda: caller.established, 20, "call established", lambda: caller.log)
    os.kill(p.pid, signal.SIGTERM)
    await wait_for(lambda: "Shutting down" in p.output(), 5, "drain log line", p.output)
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGINT)
    await wait_for(lambda: call_over(caller), 10, "BYE after the second signal",
                   lambda: caller.log)
    rc = await p.wait(20)
    took = time.monotonic() - t0
    out = p.output()
    assert rc == 0, out[-3000:]
    assert took < 15, f"exited {took:.1f} s after the second signal"
    assert "Traceback" not in out, out[-3000:]
    await caller.wait(5)
