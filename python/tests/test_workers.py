"""SIP_WORKERS: a dispatcher on the SIP port and worker processes running the bots
(real processes, real baresip calls)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

from audio_utils import read_wav
from pipecat_sip.config import SIPConfigError, SIPServerConfig
from pipecat_sip.workers import _relay_prefix, worker_for_datagram, worker_share
from test_demo import start_demo
from test_shutdown import wait_for

WORKER_PIDS_RE = re.compile(r"(\d+) workers \(pids ([\d, ]+)\)")


def worker_pids(output: str) -> list[int]:
    m = WORKER_PIDS_RE.search(output)
    assert m, output[-3000:]
    return [int(p) for p in m.group(2).split(", ")]


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def calls_taken(output: str) -> dict[str, int]:
    """Call-ID -> the worker that took it, from the workers' log lines."""
    taken: dict[str, int] = {}
    for worker, call_id in re.findall(r"SIP worker (\d+): Incoming call (\S+)", output):
        assert call_id not in taken, f"call {call_id} reached two workers"
        taken[call_id] = int(worker)
    return taken


def test_workers_share_the_rtp_range_and_limits():
    cfg = SIPServerConfig(rtp_port_range=(10001, 10020), max_calls=5, invite_rate_limit=10,
                          workers=3)
    shares = [worker_share(cfg, i, 3) for i in range(3)]
    assert [s.rtp_port_range for s in shares] == [(10002, 10007), (10008, 10013),
                                                  (10014, 10019)]
    assert {s.max_calls for s in shares} == {2}
    assert {s.invite_rate_limit for s in shares} == {4}
    assert {s.workers for s in shares} == {1}
    unlimited = worker_share(SIPServerConfig(max_calls=0, invite_rate_limit=0), 1, 2)
    assert (unlimited.max_calls, unlimited.invite_rate_limit) == (0, 0)
    with pytest.raises(SIPConfigError, match="SIP_RTP_PORT_RANGE.*too small for 4 workers"):
        worker_share(SIPServerConfig(rtp_port_range=(10000, 10005)), 0, 4)


def test_sip_workers_setting():
    assert SIPServerConfig.from_env({}).workers == 1
    assert SIPServerConfig.from_env({"SIP_WORKERS": " 4 "}).workers == 4
    for bad in ("0", "-1", "two", "1000"):
        with pytest.raises(SIPConfigError, match="SIP_WORKERS"):
            SIPServerConfig.from_env({"SIP_WORKERS": bad})
    # each worker needs an RTP port pair of its own
    with pytest.raises(SIPConfigError, match="SIP_RTP_PORT_RANGE.*too small for 3 workers"):
        SIPServerConfig.from_env({"SIP_WORKERS": "3", "SIP_RTP_PORT_RANGE": "20000-20003"})


def test_a_dialog_goes_to_one_worker():
    invite = (b"INVITE sip:bot@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
              b"Call-ID: abc@host\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\ni: not-a-header\r\n")
    bye = b"BYE sip:bot@h SIP/2.0\r\ni:abc@host\r\ncseq: 2 BYE\r\n\r\n"
    workers = {worker_for_datagram(m, 7) for m in (invite, bye)}
    assert len(workers) == 1
    # Call-IDs spread over the workers
    spread = {worker_for_datagram(b"OPTIONS x SIP/2.0\r\nCall-ID: %d\r\n\r\n" % i, 4)
              for i in range(40)}
    assert spread == {0, 1, 2, 3}
    # no Call-ID (a keep-alive, garbage): worker 0, which answers or drops it
    assert worker_for_datagram(b"\r\n\r\n", 4) == 0
    assert worker_for_datagram(b"\x00\xff garbage", 4) == 0


def test_relay_prefix_names_the_source():
    assert _relay_prefix(("192.0.2.7", 5060)) == b"\x04\x13\xc4" + bytes([192, 0, 2, 7])
    # IPv6: the scope id follows the address, so that a link-local caller is answered
    # on its interface
    fe80_1 = bytes([0xfe, 0x80] + [0] * 13 + [1])
    assert _relay_prefix(("fe80::1%eth7", 5060, 0, 7)) == (
        b"\x06\x13\xc4" + fe80_1 + b"\x00\x00\x00\x07")
    assert _relay_prefix(("2001:db8::1", 65535, 0, 0)) == (
        b"\x06\xff\xff" + socket.inet_pton(socket.AF_INET6, "2001:db8::1") + bytes(4))


# A worker whose bot starts a program the way ffmpeg or a TTS helper may be started
# (close_fds=False: every inheritable descriptor and the environment go along); the
# program says what it got of the worker's.
_WORKER = """
import os, subprocess, sys
from pipecat_sip.workers import worker_role
role = worker_role()
print(role.index, role.count, os.get_inheritable(role.sip_fd),
      os.get_inheritable(role.relay_fd), os.environ.get("PIPECAT_SIP_WORKER", "unset"),
      flush=True)
subprocess.run([sys.executable, "-c", sys.argv[1], str(role.sip_fd), str(role.relay_fd)],
               close_fds=False, check=True)
"""
_WORKER_CHILD = """
import os, sys
for fd in sys.argv[1:]:
    try:
        print(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        print("closed")
print(os.environ.get("PIPECAT_SIP_WORKER", "unset"))
"""


def test_a_workers_children_get_neither_its_sockets_nor_its_role():
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 0))
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    with sip, ours, theirs:
        fds = (sip.fileno(), theirs.fileno())
        sockets = [os.readlink(f"/proc/self/fd/{fd}") for fd in fds]
        env = dict(os.environ, PIPECAT_SIP_WORKER=f"1/2/{fds[0]}/{fds[1]}/{os.getpid()}")
        done = subprocess.run([sys.executable, "-c", _WORKER, _WORKER_CHILD], env=env,
                              pass_fds=fds, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    worker, *child = done.stdout.splitlines()
    # the worker keeps its sockets (the agent takes them over), not its children
    assert worker == "1 2 False False unset"
    assert len(child) == 3
    assert not set(sockets) & set(child), (sockets, child)
    assert child[2] == "unset"


@pytest.mark.usefixtures("c_parts")
async def test_two_workers_answer_calls_on_one_port(procs, baresip, audio):
    p, uri = await start_demo(procs, SIP_WORKERS="2", SIP_SHUTDOWN_TIMEOUT="2")
    out = p.output()
    assert "workers:   2 processes" in out, out[-3000:]
    pids = worker_pids(out)
    assert len(pids) == 2 and all(running(pid) for pid in pids)

    # Calls in batches until both workers took some (Call-IDs are random: 16 calls
    # all on one worker would happen once in 30 000 runs).
    callers = []
    for batch in range(4):
        new = [baresip(uri, audio.silence_wav, seconds=6, user=f"c{batch}{i}") for i in range(4)]
        for c in new:
            await c.wait_call_end(40)
        callers += new
        if set(calls_taken(p.output()).values()) == {0, 1}:
            break
    taken = calls_taken(p.output())
    print(f"calls per worker: {[list(taken.values()).count(w) for w in (0, 1)]}")
    assert set(taken.values()) == {0, 1}, p.output()[-3000:]
    assert len(taken) == len(callers)
    for c in callers:
        assert c.established, c.log[-2000:]
        assert "Call failed" not in c.log, c.log[-2000:]
        # the bot's greeting, sent from the worker's RTP port
        heard = read_wav(c.heard_wav)[0]
        assert np.sqrt(np.mean(heard**2)) > 0.01, "the caller heard nothing"

    os.kill(p.pid, signal.SIGINT)
    rc = await p.wait(30)
    out = p.output()
    assert rc == 0, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert not any(running(pid) for pid in pids)


@pytest.mark.usefixtures("c_parts")
async def test_a_dead_worker_is_replaced_and_orphans_stop(procs, baresip, audio):
    p, uri = await start_demo(procs, SIP_WORKERS="2")
    first, second = worker_pids(p.output())
    os.kill(second, signal.SIGKILL)
    await wait_for(lambda: p.output().count("SIP worker 1 listening") == 2, 30,
                   "worker 1 started again", p.output)
    assert "starting it again" in p.output()
    assert running(first)

    # both workers answer again
    callers = [baresip(uri, audio.silence_wav, seconds=4, user=f"after{i}") for i in range(4)]
    for c in callers:
        await c.wait_call_end(40)
        assert c.established, c.log[-2000:]

    # the dispatcher dies: its workers end themselves
    replacement = [int(x) for x in re.findall(r"SIP worker 1 started again \(pid (\d+)\)", p.output())]
    os.kill(p.pid, signal.SIGKILL)
    await p.wait(10)
    await asyncio.sleep(0.1)
    live = [pid for pid in worker_pids(p.output()) + replacement if running(pid)]
    await wait_for(lambda: not any(running(pid) for pid in live), 15,
                   "the orphaned workers stopped", p.output)
    assert "SIP dispatcher gone" in p.output()
