"""Fixtures for the pipecat_sip tests: real Pipecat, real calls over loopback.

The SIP server (the gst-sip C library through PyGObject) and the bots run inside the
test's asyncio loop; the callers are real SIP user agents started as processes:
baresip 1.0.0 (speech from a WAV file, what it hears written to a WAV file) and sipp
(RFC 4733 DTMF from the pcaps shipped with sip-tester). Ports are probed free ports.
Every process is ended by its PID when the test ends.

Environment:
  GST_SIP_BUILDDIR  meson build directory with sip/Sip-1.0.typelib and gst/libgstsip.so
                    (default: <repo>/build)
  PIPECAT_SIP_KEEP  keep each test's work directory under <repo>/tests/out/python/
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

LOCALHOST = "127.0.0.1"
SIPP_PCAP_DIR = Path("/usr/share/sip-tester")

SPEECH_TEXTS = {
    "speech": "The quick brown fox jumps over the lazy dog. One, two, three, four, five.",
    "alpha": "Alpha bravo charlie delta echo foxtrot golf hotel.",
    "bravo": "Please call Stella and ask her to bring these things with her from the store.",
    "charlie": "Six spoons of fresh snow peas, five thick slabs of blue cheese.",
    "delta": "The rainbow is a division of white light into many beautiful colors.",
    "echo": "When the sunlight strikes raindrops in the air, they act as a prism.",
    "hello": "Hello, can you hear me? I would like to book a table for two tonight.",
}


# ------------------------------------------------------------------ C parts


@pytest.fixture(scope="session")
def c_parts():
    """Load GStreamer, the sip plugin and the Sip typelib once; fail clearly if missing."""
    from pipecat_sip._gi import SipLibraryError, ensure_gst, load_sip

    try:
        ensure_gst()
        load_sip()
    except SipLibraryError as e:
        pytest.fail(f"gst-sip C parts not available: {e}", pytrace=False)


# ------------------------------------------------------------------ ports

_handed_out: set[int] = set()


def _bindable(port: int) -> bool:
    for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            s = socket.socket(family, socket.SOCK_DGRAM)
        except OSError:
            continue
        try:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_udp_port() -> int:
    """A UDP port free now and not handed out before in this run."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError("no free UDP port")


def free_udp_range(count: int = 40, low: int = 20000, high: int = 32000) -> tuple[int, int]:
    """A block of free UDP ports starting at an even port (below the ephemeral range)."""
    for _ in range(500):
        base = random.randrange(low, high - count) & ~1
        ports = range(base, base + count)
        if any(p in _handed_out for p in ports):
            continue
        if all(_bindable(p) for p in ports[:10]):
            _handed_out.update(ports)
            return base, base + count - 1
    raise RuntimeError("no free UDP port range")


# ------------------------------------------------------------------ work dir, processes


@pytest.fixture
def workdir(request, tmp_path) -> Path:
    if os.environ.get("PIPECAT_SIP_KEEP"):
        d = REPO / "tests" / "out" / "python" / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d
    return tmp_path


class Proc:
    """A process started by a test; output goes to a log file; ended by PID."""

    def __init__(self, name: str, args: list[Any], cwd: Path, env: dict[str, str], log: Path,
                 stop_signal: int = signal.SIGTERM):
        self.name = name
        self.args = [str(a) for a in args]
        self.log_path = log
        self.stop_signal = stop_signal
        self._log = open(log, "wb")
        self.popen = subprocess.Popen(self.args, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    async def wait(self, timeout: float) -> int | None:
        """Wait (without blocking the loop) for the process to exit by itself."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.popen.poll()
            if rc is not None:
                return rc
            await asyncio.sleep(0.05)
        return self.popen.poll()

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, grace: float = 5.0) -> int | None:
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.popen.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
        return self.popen.returncode


class Procs:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.all: list[Proc] = []

    def start(self, name: str, args: list[Any], env: dict[str, str] | None = None,
              stop_signal: int = signal.SIGTERM, cwd: Path | None = None) -> Proc:
        p = Proc(name, args, cwd or self.workdir, env or proc_env(), self.workdir / f"{name}.log",
                 stop_signal)
        self.all.append(p)
        return p

    def stop_all(self) -> None:
        for p in reversed(self.all):
            p.stop()

    def dump(self) -> None:
        for p in self.all:
            print(f"\n===== {p.name} (pid {p.pid}, rc {p.popen.returncode}): {' '.join(p.args)}\n"
                  f"{p.output()[-5000:]}")


def proc_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env.setdefault("GST_DEBUG", "2")
    env.setdefault("GST_DEBUG_NO_COLOR", "1")
    return env


@pytest.fixture
def procs(workdir):
    ps = Procs(workdir)
    yield ps
    ps.stop_all()
    ps.dump()  # shown by pytest when the test failed


# ------------------------------------------------------------------ test audio


def _run(cmd: list[Any]) -> None:
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_speech(directory: Path, name: str, text: str, pad_start: float = 0.3,
                pad_end: float = 1.0) -> Path:
    """espeak-ng -> 8 kHz mono 16-bit WAV, padded with silence."""
    raw = directory / f"{name}-espeak.wav"
    wav = directory / f"{name}.wav"
    _run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, text])
    _run(["sox", raw, "-r", "8000", "-c", "1", "-b", "16", wav, "pad", str(pad_start), str(pad_end)])
    return wav


class AudioFiles:
    dir: Path
    silence_wav: Path

    def get(self, name: str) -> Path:
        return getattr(self, name)


@pytest.fixture(scope="session")
def audio(tmp_path_factory) -> AudioFiles:
    d = tmp_path_factory.mktemp("audio")
    a = AudioFiles()
    a.dir = d
    for name, text in SPEECH_TEXTS.items():
        setattr(a, name, make_speech(d, name, text))
    a.silence_wav = d / "silence.wav"
    _run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", a.silence_wav, "trim", "0", "40"])
    return a


# ------------------------------------------------------------------ baresip


BARESIP_CONFIG = """\
poll_method		epoll
sip_listen		{listen}
call_local_timeout	120
call_max_calls		4
audio_player		alsa,null
audio_source		aufile,{source}
audio_alert		alsa,null
audio_level		no
ausrc_format		s16
auplay_format		s16
auenc_format		s16
audec_format		s16
audio_buffer		20-160
rtp_ports		{rtp_lo}-{rtp_hi}
rtp_tos			0
rtcp_mux		no
jitter_buffer_delay	1-4
rtp_stats		no
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			alsa.so
module			sndfile.so
module_tmp		account.so
module_app		menu.so
snd_path		{snd}
"""


@dataclass
class BaresipCall:
    proc: Proc
    snd_dir: Path
    rtp_range: tuple[int, int]

    async def wait(self, timeout: float) -> int | None:
        """Wait for baresip to exit; it stays up after a call until its -t time, so
        after ``timeout`` seconds it is ended by PID (its WAV dumps are closed when
        the call ends)."""
        rc = await self.proc.wait(timeout)
        if rc is None:
            rc = self.proc.stop()
        return rc

    async def wait_call_end(self, timeout: float) -> None:
        """Wait until baresip reports the call over, then end it (by PID)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"terminated \(duration|session closed|Call failed", self.log):
                break
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"baresip call still up after {timeout}s:\n{self.log[-3000:]}")
        await asyncio.sleep(0.3)
        await self.wait(0)

    @property
    def log(self) -> str:
        return self.proc.output()

    def _dump(self, kind: str) -> Path:
        files = sorted(self.snd_dir.glob(f"*-{kind}.wav"))
        assert files, f"baresip wrote no *-{kind}.wav in {self.snd_dir}:\n{self.log[-3000:]}"
        return files[-1]

    @property
    def heard_wav(self) -> Path:
        return self._dump("dec")

    @property
    def sent_wav(self) -> Path:
        return self._dump("enc")

    @property
    def established(self) -> bool:
        return "Call established" in self.log


@pytest.fixture
def baresip(procs, workdir):
    """baresip(uri, source_wav, seconds) places one call: the caller's voice is the WAV;
    what it hears is written to *-dec.wav. The call ends when the WAV ends, when the
    callee hangs up, or after ``seconds``."""
    counter = [0]

    def call(uri: str, source_wav: Path, seconds: int = 20, user: str = "tester",
             rtp_range: tuple[int, int] | None = None) -> BaresipCall:
        counter[0] += 1
        cfg = workdir / f"baresip{counter[0]}"
        snd = cfg / "snd"
        snd.mkdir(parents=True)
        lo, hi = rtp_range or free_udp_range(20)
        (cfg / "config").write_text(BARESIP_CONFIG.format(
            listen=f"{LOCALHOST}:{free_udp_port()}", source=source_wav, rtp_lo=lo, rtp_hi=hi, snd=snd))
        (cfg / "accounts").write_text(f"<sip:{user}@{LOCALHOST}>;regint=0;audio_codecs=PCMU\n")
        (cfg / "contacts").write_text("")
        p = procs.start(f"baresip{counter[0]}",
                        ["timeout", "-k", "5", str(seconds + 15), "baresip", "-f", cfg, "-n",
                         LOCALHOST, "-e", f"/dial {uri}", "-t", str(seconds)])
        return BaresipCall(p, snd, (lo, hi))

    return call


# ------------------------------------------------------------------ sipp


@pytest.fixture
def sipp(procs, workdir):
    """sipp(scenario_xml_text, port) starts one sipp call (UAC) against 127.0.0.1:port."""
    counter = [0]

    def start(scenario: str, port: int, timeout: int = 60, service: str = "bot") -> Proc:
        counter[0] += 1
        prefix = f"sipp{counter[0]}"
        scen = workdir / f"{prefix}.xml"
        scen.write_text(scenario)
        media_port, _ = free_udp_range(4)
        cmd = ["timeout", "-k", "5", str(timeout), "sipp", f"{LOCALHOST}:{port}",
               "-sf", scen, "-s", service, "-i", LOCALHOST, "-p", free_udp_port(),
               "-mp", media_port, "-m", "1", "-l", "1", "-nostdin",
               "-timeout", f"{timeout - 5}s", "-timeout_error",
               "-trace_err", "-error_file", workdir / f"{prefix}-errors.log",
               "-trace_msg", "-message_file", workdir / f"{prefix}-messages.log"]
        return procs.start(prefix, cmd)

    return start


# ------------------------------------------------------------------ packet capture


@dataclass
class Capture:
    proc: Proc
    path: Path

    async def stop(self) -> Path:
        await asyncio.sleep(0.5)  # let the last packets land
        self.proc.stop()
        return self.path


@pytest.fixture
def capture(procs, workdir):
    """capture(bpf_filter) starts dumpcap on loopback writing a pcap; returns Capture."""
    counter = [0]

    async def start(bpf: str) -> Capture:
        if shutil.which("dumpcap") is None:
            pytest.fail("dumpcap (wireshark-common / tshark) is needed for RTP capture")
        counter[0] += 1
        path = workdir / f"capture{counter[0]}.pcap"
        p = procs.start(f"dumpcap{counter[0]}",
                        ["dumpcap", "-q", "-i", "lo", "-P", "-f", bpf, "-w", path],
                        stop_signal=signal.SIGINT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size >= 24:
                await asyncio.sleep(0.3)
                return Capture(p, path)
            if p.poll() is not None:
                pytest.fail(f"dumpcap exited: {p.output()}")
            await asyncio.sleep(0.05)
        pytest.fail(f"dumpcap did not start: {p.output()}")

    return start


# ------------------------------------------------------------------ in-process SIP server


@dataclass
class ServerHandle:
    server: Any
    stop_event: asyncio.Event
    task: asyncio.Task
    port: int
    calls: list = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"sip:bot@{LOCALHOST}:{self.port}"


@pytest_asyncio.fixture
async def sip_server():
    """sip_server(bot, **config) runs pipecat_sip's SIP server in the test's loop with
    ``bot(runner_args)`` per call, on a free port; stopped when the test ends."""
    from pipecat_sip.config import SIPServerConfig
    from pipecat_sip.runner import run_sip_server

    handles: list[ServerHandle] = []

    async def start(bot, **overrides) -> ServerHandle:
        lo, hi = free_udp_range(60)
        cfg = dict(host=LOCALHOST, port=free_udp_port(), rtp_port_range=(lo, hi))
        cfg.update(overrides)
        config = SIPServerConfig(**cfg)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        ready: asyncio.Future = loop.create_future()
        task = asyncio.create_task(run_sip_server(
            bot, config, stop_event=stop, handle_signals=False,
            on_ready=lambda s: ready.done() or ready.set_result(s)))
        done, _ = await asyncio.wait({ready, task}, timeout=15,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises the start-up error
        assert ready in done, "SIP server did not start within 15 s"
        server = ready.result()
        h = ServerHandle(server, stop, task, server.bound_port)
        handles.append(h)
        return h

    yield start

    for h in handles:
        h.stop_event.set()
    for h in handles:
        try:
            await asyncio.wait_for(h.task, 30)
        except Exception as e:  # report, but do not hide the test's own failure
            print(f"SIP server task ended with {e!r}")


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Every media writer thread a test started has ended by the time it finishes."""
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [t.name for t in threading.enumerate() if t.name.startswith("sip-call-")]
        if not left:
            return
        time.sleep(0.1)
    pytest.fail(f"media threads still running after the test: {left}")
