"""Fixtures for the gst-sip interop tests: real peers (sipp, baresip) call real
gst-launch-1.0 pipelines over loopback.

Every process is started through the `procs` fixture and ended by its PID
(SIGINT/SIGTERM, then SIGKILL) and waited for when the test ends. Ports are
probed free ports, never fixed ones. Test speech is made with espeak-ng + sox.

Environment:
  GST_SIP_BUILDDIR  build directory holding gst/libgstsip.so (default: <repo>/build)
  GST_DEBUG         passed through to the pipelines (default: warnings only)
  INTEROP_KEEP      if set, keep each test's work directory (default: pytest's tmp dirs)
"""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))   # the tests import audio.py from here

REPO = HERE.parent.parent
BUILD_DIR = Path(os.environ.get("GST_SIP_BUILDDIR") or (REPO / "build")).resolve()
PLUGIN_DIR = BUILD_DIR / "gst"
PIPELINES = REPO / "pipelines"
SIPP_DIR = HERE / "sipp"
BARESIP_DIR = HERE / "baresip"
SIPP_PCAP_DIR = Path("/usr/share/sip-tester")
LOCALHOST = "127.0.0.1"

SPEECH_TEXT = ("The quick brown fox jumps over the lazy dog. "
               "This is a test call to the gst sip echo, one, two, three, four, five.")
PROMPT_TEXT = ("Welcome to gst sip. This prompt is played from a file, "
               "and when it is over, the call ends.")


# ------------------------------------------------------------------ ports

_handed_out = set()


def _bindable(port, kind=socket.SOCK_DGRAM):
    for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            s = socket.socket(family, kind)
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


def free_udp_port():
    """A UDP port that is free now (probed), never handed out before in this run."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError("no free UDP port found")


def free_udp_range(count=40, low=20000, high=32000):
    """A block of `count` free UDP ports starting at an even port, below the
    kernel's ephemeral range. Returns (first, last)."""
    for _ in range(500):
        base = random.randrange(low, high - count) & ~1
        ports = range(base, base + count)
        if any(p in _handed_out for p in ports):
            continue
        if all(_bindable(p) for p in ports[:8]):
            _handed_out.update(ports)
            return base, base + count - 1
    raise RuntimeError("no free UDP port range found")


def udp_port_bound(port):
    """True if some socket on this host is bound to UDP `port` (reads /proc, so it
    does not disturb the process that is about to bind it)."""
    hexport = ":%04X" % port
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    local = line.split()[1]
                    if local.endswith(hexport):
                        return True
        except FileNotFoundError:
            pass
    return False


# ------------------------------------------------------------------ processes


class Proc:
    """A process started by the test. Output (stdout+stderr) goes to a log file."""

    def __init__(self, name, args, cwd, env, log_path, stop_signal):
        self.name = name
        self.args = [str(a) for a in args]
        self.log_path = log_path
        self.stop_signal = stop_signal
        self._log = open(log_path, "wb")
        self.started = time.monotonic()
        self.popen = subprocess.Popen(self.args, cwd=str(cwd), env=env,
                                      stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def poll(self):
        return self.popen.poll()

    @property
    def returncode(self):
        return self.popen.returncode

    def wait(self, timeout):
        """Wait for the process to exit by itself; returns its exit code or None."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self):
        self._log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def stop(self, grace=5.0):
        """End the process by PID: stop_signal, then SIGKILL after `grace` s; wait."""
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
        self._log.close()
        return self.popen.returncode

    def __repr__(self):
        return f"<{self.name} pid={self.pid} rc={self.popen.returncode}>"


def base_env():
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = str(PLUGIN_DIR) + (
        ":" + env["GST_PLUGIN_PATH"] if env.get("GST_PLUGIN_PATH") else "")
    env["GST_SIP_BUILDDIR"] = str(BUILD_DIR)
    env.setdefault("GST_DEBUG", "2")
    env.setdefault("GST_DEBUG_NO_COLOR", "1")
    env["LC_ALL"] = "C"
    return env


def sip_lib_env():
    """base_env() plus the build tree's Sip typelib and libsipua, for GI programs."""
    env = base_env()
    for var, path in (("GI_TYPELIB_PATH", BUILD_DIR / "sip"), ("LD_LIBRARY_PATH", BUILD_DIR / "sip")):
        env[var] = str(path) + (":" + env[var] if env.get(var) else "")
    return env


class Procs:
    def __init__(self, workdir):
        self.workdir = workdir
        self.all = []

    def start(self, name, args, cwd=None, env=None, stop_signal=signal.SIGTERM):
        log = self.workdir / f"{name}.log"
        p = Proc(name, args, cwd or self.workdir, env or base_env(), log, stop_signal)
        self.all.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.all):
            p.stop()

    def dump(self):
        for p in self.all:
            text = p.output() if not p._log.closed else Path(p.log_path).read_text(errors="replace")
            tail = text[-6000:]
            print(f"\n===== {p.name} (pid {p.pid}, rc {p.returncode}): {' '.join(p.args)}\n{tail}")


@pytest.fixture
def workdir(request, tmp_path):
    if os.environ.get("INTEROP_KEEP"):
        d = REPO / "tests" / "out" / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d
    return tmp_path


@pytest.fixture
def procs(workdir):
    ps = Procs(workdir)
    yield ps
    ps.stop_all()
    ps.dump()   # shown by pytest when the test failed


@pytest.fixture
def netpair():
    """Two network namespaces joined by a veth pair (netns.NetPair), deleted after the
    test; skipped without root."""
    from netns import NetPair, have_root_netns

    why = have_root_netns()
    if why:
        pytest.skip(f"network namespace tests: {why}")
    pair = NetPair()
    try:
        pair.create()
        yield pair
    finally:
        left = pair.delete()
        assert not left, f"could not delete network namespaces {left}"


# ------------------------------------------------------------------ gst-sip server side


class Server:
    """A gst-launch-1.0 pipeline holding a sipsrc, started from a pipelines/ script
    or from a launch line. gst-launch runs with -m so bus messages land in its log."""

    def __init__(self, proc, port, rtp_range):
        self.proc = proc
        self.port = port
        self.rtp_range = rtp_range
        self.uri = f"sip:echo@{LOCALHOST}:{port}"

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.proc.name} exited early (rc {self.proc.returncode}):\n{self.proc.output()[-3000:]}")
            if udp_port_bound(self.port):
                time.sleep(0.2)
                return self
            time.sleep(0.05)
        raise AssertionError(f"{self.proc.name}: SIP port {self.port} never bound:\n{self.proc.output()[-3000:]}")

    def wait_exit(self, timeout):
        return self.proc.wait(timeout)

    def messages(self, name):
        """Bus element messages named `name` printed by gst-launch -m, as dicts of
        their fields (values as printed, type prefixes stripped)."""
        out = []
        for line in self.proc.output().splitlines():
            m = re.search(r"\b" + re.escape(name) + r"(,.*)?$", line)
            if not m or "element message" not in line and "Got message" not in line:
                continue
            out.append(parse_structure_fields(m.group(1) or ""))
        return out


def parse_structure_fields(text):
    fields = {}
    for m in re.finditer(r'\s*([A-Za-z0-9_-]+)=(?:\([A-Za-z0-9_]+\))?("(?:[^"\\]|\\.)*"|[^,;]*)', text):
        v = m.group(2).strip()
        if v.startswith('"') and v.endswith('"'):
            v = v[1:-1]
        fields[m.group(1)] = re.sub(r"\\(.)", r"\1", v)   # GStreamer escapes with backslashes
    return fields


@pytest.fixture
def server(procs):
    """server(script, *args, launch=None) starts pipelines/<script> PORT *args (or
    gst-launch-1.0 -m <launch> with {port} and {rtp_range} filled in) and waits
    until its SIP port is bound. Returns a Server."""

    def start(script=None, *args, launch=None, eos_on_shutdown=False, name=None):
        port = free_udp_port()
        lo, hi = free_udp_range()
        rtp_range = f"{lo}-{hi}"
        env = base_env()
        env["SIP_RTP_PORT_RANGE"] = rtp_range
        if os.environ.get("INTEROP_HOST"):
            env["SIP_SERVER_HOST"] = os.environ["INTEROP_HOST"]
        env["GST_LAUNCH_OPTS"] = "-m"
        if script:
            cmd = [PIPELINES / script, str(port)] + [str(a) for a in args]
            pname = name or script
        else:
            opts = ["-m"] + (["-e"] if eos_on_shutdown else [])
            cmd = ["gst-launch-1.0"] + opts + launch.format(
                port=port, rtp_range=rtp_range, host=LOCALHOST).split()
            pname = name or "gst-launch"
        p = procs.start(pname, cmd, env=env, stop_signal=signal.SIGINT)
        return Server(p, port, rtp_range).wait_ready()

    return start


# ------------------------------------------------------------------ test audio


def _run(cmd):
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_speech(directory, name, text, pad_start=0.2, pad_end=1.5):
    """espeak-ng -> 8 kHz mono 16-bit WAV (padded with silence) + raw mu-law."""
    raw = directory / f"{name}-espeak.wav"
    wav = directory / f"{name}.wav"
    ulaw = directory / f"{name}.ulaw"
    _run(["espeak-ng", "-v", "en", "-s", "150", "-w", raw, text])
    _run(["sox", raw, "-r", "8000", "-c", "1", "-b", "16", wav, "pad", str(pad_start), str(pad_end)])
    _run(["sox", wav, "-t", "raw", "-e", "mu-law", "-c", "1", ulaw])
    return wav, ulaw


class AudioFiles:
    pass


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("audio")
    a = AudioFiles()
    a.dir = d
    a.speech_wav, a.speech_ulaw = make_speech(d, "speech", SPEECH_TEXT)
    a.prompt_wav, a.prompt_ulaw = make_speech(d, "prompt", PROMPT_TEXT, pad_start=0.0, pad_end=0.0)
    a.silence_wav = d / "silence.wav"
    _run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", a.silence_wav, "trim", "0", "30"])
    return a


# ------------------------------------------------------------------ sipp


class SippResult:
    def __init__(self, proc, workdir, prefix):
        self.proc = proc
        self.rc = proc.returncode
        self.workdir = workdir
        self.prefix = prefix

    def _read(self, suffix):
        p = self.workdir / f"{self.prefix}{suffix}"
        return p.read_text(errors="replace") if p.exists() else ""

    @property
    def messages_log(self):
        return self._read("-messages.log")

    @property
    def errors(self):
        return self._read("-errors.log")

    @property
    def log(self):
        return self._read("-logs.log")

    def received(self):
        """[(timestamp_seconds, first_line, full_text)] of SIP messages received."""
        out = []
        for block in re.split(r"\n(?=-{10,} )", "\n" + self.messages_log):
            m = re.match(r"\s*-{10,} (\d+)-(\d+)-(\d+)\s+(\d+):(\d+):([\d.]+)", block)
            if not m:
                continue
            header, _, body = block.partition("\n")
            if "UDP message received" not in body.split("\n", 1)[0] and "message received" not in body[:200]:
                continue
            lines = [ln for ln in body.splitlines() if ln.strip()]
            # first line after "UDP message received [n] bytes :"
            start = next((i for i, ln in enumerate(lines) if "message received" in ln), None)
            if start is None or start + 1 >= len(lines):
                continue
            t = int(m.group(4)) * 3600 + int(m.group(5)) * 60 + float(m.group(6))
            out.append((t, lines[start + 1].strip(), "\n".join(lines[start + 1:])))
        return out

    def call_id(self):
        """The Call-ID sipp used (from its first sent message)."""
        m = re.search(r"(?im)^\s*Call-ID:\s*(\S+)", self.messages_log)
        return m.group(1) if m else None

    def summary(self):
        return (f"sipp rc={self.rc}\n--- errors:\n{self.errors[-3000:]}\n--- log:\n{self.log[-2000:]}"
                f"\n--- output:\n{self.proc.output()[-3000:]}")


@pytest.fixture
def sipp(procs, workdir):
    """sipp(scenario, port, replace={}, duration_ms=..., timeout=...) runs one call of
    tests/interop/sipp/<scenario> against 127.0.0.1:port and returns a SippResult
    (rc 0 = the call succeeded). Use start_sipp for a call running in the background."""
    counter = [0]

    def start(scenario, port, replace=None, duration_ms=0, timeout=60, service="echo",
              extra=()):
        counter[0] += 1
        text = (SIPP_DIR / scenario).read_text()
        for k, v in (replace or {}).items():
            text = text.replace(k, str(v))
        prefix = f"sipp{counter[0]}-{Path(scenario).stem}"
        scen = workdir / f"{prefix}.xml"
        scen.write_text(text)
        local_port = free_udp_port()
        media_port, _ = free_udp_range(4)
        cmd = ["timeout", "-k", "5", str(timeout), "sipp", f"{LOCALHOST}:{port}",
               "-sf", scen, "-s", service, "-i", LOCALHOST, "-p", local_port,
               "-mp", media_port, "-m", "1", "-l", "1", "-nostdin",
               "-d", str(duration_ms),
               "-timeout", f"{timeout - 5}s", "-timeout_error",
               "-trace_err", "-error_file", workdir / f"{prefix}-errors.log",
               "-trace_msg", "-message_file", workdir / f"{prefix}-messages.log",
               "-trace_logs", "-log_file", workdir / f"{prefix}-logs.log",
               "-trace_stat", "-stf", workdir / f"{prefix}-stat.csv",
               ] + list(extra)
        p = procs.start(prefix, cmd, stop_signal=signal.SIGTERM)
        p.sipp_prefix = prefix
        return p

    def run(scenario, port, timeout=60, **kw):
        p = start(scenario, port, timeout=timeout, **kw)
        rc = p.wait(timeout + 15)
        assert rc is not None, f"sipp {scenario} did not end"
        return SippResult(p, workdir, p.sipp_prefix)

    run.start = start
    run.result = lambda p: SippResult(p, workdir, p.sipp_prefix)
    return run


# ------------------------------------------------------------------ baresip


class BaresipCall:
    def __init__(self, proc, snd_dir):
        self.proc = proc
        self.snd_dir = snd_dir

    def wait(self, timeout):
        rc = self.proc.wait(timeout)
        assert rc is not None, f"baresip still running after {timeout}s:\n{self.proc.output()[-3000:]}"
        return rc

    @property
    def log(self):
        return self.proc.output()

    def _dump(self, kind):
        files = sorted(self.snd_dir.glob(f"*-{kind}.wav"))
        assert files, f"baresip wrote no *-{kind}.wav in {self.snd_dir}:\n{self.log[-3000:]}"
        return files[-1]

    @property
    def heard_wav(self):
        return self._dump("dec")

    @property
    def sent_wav(self):
        return self._dump("enc")

    @property
    def established(self):
        return "Call established" in self.log


@pytest.fixture
def baresip(procs, workdir):
    """baresip(uri, source_wav, seconds) places one call with baresip 1.0.0: the
    caller's voice is the WAV (aufile), what it hears is written by sndfile to
    snd_path (*-dec.wav). The call ends when the WAV ends, when the callee hangs up,
    or after `seconds` (baresip -t)."""
    counter = [0]

    def call(uri, source_wav, seconds=20, user="tester"):
        counter[0] += 1
        cfg = workdir / f"baresip{counter[0]}"
        snd = cfg / "snd"
        snd.mkdir(parents=True)
        sip_port = free_udp_port()
        lo, hi = free_udp_range(20)
        text = (BARESIP_DIR / "config.in").read_text()
        text = (text.replace("@SIP_LISTEN@", f"{LOCALHOST}:{sip_port}")
                .replace("@AUDIO_SOURCE@", str(source_wav))
                .replace("@RTP_PORTS@", f"{lo}-{hi}")
                .replace("@SND_PATH@", str(snd)))
        (cfg / "config").write_text(text)
        (cfg / "accounts").write_text(
            (BARESIP_DIR / "accounts.in").read_text().replace("@USER@", user).replace("@HOST@", LOCALHOST))
        (cfg / "contacts").write_text("")
        p = procs.start(f"baresip{counter[0]}",
                        ["timeout", "-k", "5", str(seconds + 15), "baresip", "-f", cfg, "-n", LOCALHOST,
                         "-e", f"/dial {uri}", "-t", str(seconds)],
                        stop_signal=signal.SIGTERM)
        return BaresipCall(p, snd)

    return call
