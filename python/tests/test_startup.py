"""Start-up errors: the runner stops with a message naming what is wrong."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from conftest import LOCALHOST, free_udp_port, free_udp_range, proc_env

from pipecat_sip.config import SIPServerConfig
from pipecat_sip.server import SIPServer, SIPServerError

pytestmark = pytest.mark.usefixtures("c_parts")


def run_demo(env_extra: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    env = proc_env()
    lo, hi = free_udp_range(10)
    env.update(SIP_SERVER_HOST=LOCALHOST, SIP_SERVER_PORT=str(free_udp_port()),
               SIP_RTP_PORT_RANGE=f"{lo}-{hi}")
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pipecat_sip.demo"], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_port_in_use_stops_the_runner(workers):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        port = s.getsockname()[1]
        r = run_demo({"SIP_SERVER_PORT": str(port), "SIP_WORKERS": workers})
    print(r.stderr[-2000:])
    assert r.returncode == 1, r.stderr[-3000:]
    assert "SIP_SERVER_PORT" in r.stderr
    assert str(port) in r.stderr
    assert "in use" in r.stderr.lower() or "address already" in r.stderr.lower()
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "variable,value",
    [
        ("SIP_RTP_PORT_RANGE", "15000-10000"),
        ("SIP_RTP_PORT_RANGE", "ten-twenty"),
        ("SIP_ALLOWED_SOURCES", "10.0.0.0/33"),
        ("SIP_ALLOWED_SOURCES", "127.0.0.1/32,not-a-network"),
        ("SIP_SERVER_PORT", "99999"),
        ("SIP_MAX_CALLS", "lots"),
        ("SIP_INVITE_RATE_LIMIT", "ten"),
        ("SIP_SHUTDOWN_TIMEOUT", "-5"),
    ],
)
def test_malformed_environment_stops_the_runner(variable, value):
    r = run_demo({variable: value})
    print(r.stderr[-1000:])
    assert r.returncode == 2, r.stderr[-3000:]
    assert variable in r.stderr
    assert value in r.stderr
    assert "Traceback" not in r.stderr


async def test_server_reports_port_in_use():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        port = s.getsockname()[1]
        lo, hi = free_udp_range(10)
        server = SIPServer(SIPServerConfig(host=LOCALHOST, port=port, rtp_port_range=(lo, hi)),
                           on_call=lambda call: None)
        with pytest.raises(SIPServerError, match=str(port)):
            server.start()


@pytest.mark.parametrize(
    "field,value",
    [("rtp_port_range", (15001, 15000)), ("allowed_sources", ["10.0.0.0/33"])],
)
async def test_library_refuses_bad_settings(field, value):
    """The C library checks too (a config made without from_env())."""
    cfg = SIPServerConfig(host=LOCALHOST, port=0, rtp_port_range=free_udp_range(10))
    setattr(cfg, field, value)
    server = SIPServer(cfg, on_call=lambda call: None)
    with pytest.raises(SIPServerError) as ei:
        server.start()
    print(ei.value)
    await server.stop()


def test_example_bot_starts_with_transport_sip(procs):
    """examples/bot.py -t sip: imports its services, binds SIP, tells how to call it,
    and stops cleanly on Ctrl-C (no call is placed: its services need the network)."""
    import signal
    import time
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "bot.py"
    port = free_udp_port()
    lo, hi = free_udp_range(10)
    env = proc_env()
    env.update(SIP_SERVER_HOST=LOCALHOST, SIP_SERVER_PORT=str(port), SIP_RTP_PORT_RANGE=f"{lo}-{hi}",
               DEEPGRAM_API_KEY="test", OPENAI_API_KEY="test", CARTESIA_API_KEY="test")
    p = procs.start("example", [sys.executable, example, "--transport", "sip"], env=env,
                    stop_signal=signal.SIGINT, cwd=example.parent)
    deadline = time.monotonic() + 90
    uri = f"sip:bot@{LOCALHOST}:{port}"
    while time.monotonic() < deadline and uri not in p.output():
        assert p.poll() is None, p.output()[-3000:]
        time.sleep(0.2)
    assert uri in p.output(), p.output()[-3000:]
    assert p.stop(grace=15) == 0, p.output()[-3000:]


@pytest.mark.parametrize("limit", [0, 3, 10])
async def test_invite_rate_limit_reaches_the_agent(limit):
    cfg = SIPServerConfig(host=LOCALHOST, port=0, rtp_port_range=free_udp_range(10),
                          invite_rate_limit=limit)
    server = SIPServer(cfg, on_call=lambda call: None)
    server.start()
    try:
        assert server.agent.get_property("invite-rate-limit") == limit
    finally:
        await server.stop()


# A call's elements, and those sipsink makes inside itself.
PRELOADED = ("sipsrc", "sipsink", "mulawenc", "rtppcmupay", "udpsink", "appsrc", "fdsink")

PRELOAD_CHECK = f"""
import asyncio
from pipecat_sip._gi import Gst, ensure_gst
from pipecat_sip.media import preload_media

ensure_gst()
names = {PRELOADED!r}

def loaded():
    return {{n: Gst.ElementFactory.find(n).get_plugin().is_loaded() for n in names}}

before = loaded()
asyncio.run(preload_media())
print("before", sorted(n for n, v in before.items() if v))
print("after", sorted(n for n, v in loaded().items() if v))
"""


def test_preload_loads_the_call_pipelines_plugins():
    # The runner loads them before it takes calls: the first call is set up as
    # fast as the others (sipsink's inner encoder, payloader and udpsink too).
    r = subprocess.run([sys.executable, "-c", PRELOAD_CHECK], env=proc_env(), capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    assert lines["before"] == "[]", r.stdout
    assert lines["after"] == str(sorted(PRELOADED)), r.stdout
