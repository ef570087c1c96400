#!/usr/bin/python3
"""gst-sip benchmark driver (issue 5): concurrent echo calls, CPU, memory and latency.

Runs each system under test as its own process, one after another at the same
numbers of calls, drives it with its load generator and measures the server's
process tree from /proc:

  c       tests/examples/sip-echo-server      (C level: SipAgent + sipsrc/sipsink)
  floor   tests/bench/floor-echo              (plain RTP echo pipelines, no SIP)
  python  tests/bench/pipecat_sip_echo.py     (pipecat_sip runner + echo bot)
  python-immediately                          (the same, SIP_ANSWER=immediately: INVITE->200 only)
  ws      tests/bench/pipecat_ws_echo.py      (Pipecat websocket + Twilio serializer)

and, at the N the Python level is compared at, tests/bench/pipecat_null_echo.py:
the same echo bot over a transport with no I/O (what Pipecat itself costs), and
(full mode) the Python level and its reference with the bot listening
(``--bot listen``: it hears the caller and says nothing).

`make bench` (full, <= 10 min) or `BENCH_QUICK=1 make bench` (< 2 min).  Writes
tests/bench/RESULTS.md (text under the KEEP marker is kept) and prints as its
last line:

  concurrent_calls=N loss_pct=X cpu_per_call_pct=Y ratio_vs_floor=Z ratio_vs_pipecat_ws=W

Environment: BENCH_QUICK=1; BENCH_BUDGET (seconds); BENCH_SYSTEMS (comma list of
the keys above); BENCH_PY_STEPS (comma list of numbers of calls for the Python
level and its websocket reference, instead of the mode's own); BENCH_PY_DIR (where the Python programs are, default
tests/bench); BENCH_PYTHON (interpreter for them, default .venv/bin/python);
BENCH_PY_WORKERS (the Python level's SIP_WORKERS and the websocket reference's
processes, default one per core);
GST_SIP_BUILDDIR (default build/).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "bench"
BUILD = Path(os.environ.get("GST_SIP_BUILDDIR", ROOT / "build"))
OUT = ROOT / "tests" / "out" / "bench"
PY_DIR = Path(os.environ.get("BENCH_PY_DIR", BENCH))
PYTHON = os.environ.get("BENCH_PYTHON", str(ROOT / ".venv" / "bin" / "python"))
# The Python level runs one worker process per core (SIP_WORKERS): one process runs
# one bot at a time.
PY_WORKERS = int(os.environ.get("BENCH_PY_WORKERS") or os.cpu_count() or 1)
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
BUDGET = float(os.environ.get("BENCH_BUDGET", 105 if QUICK else 570))
RESULTS = BENCH / "RESULTS.md"
KEEP = "<!-- run.py keeps everything below this line -->"

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
LOSS_MAX = 0.1  # %
ECHO_P99_MAX = 100.0  # ms

# Ports: the servers' RTP ranges stay clear of the defaults (10000-15000) other
# programs on the machine use.
SERVER_RTP_RANGE = "20000-27999"
LOADGEN_RTP = 40000
# the floor and its load generator use fixed blocks of 2N ports: the first
# free blocks from here (see free_block), below the ephemeral ports (32768+)
# that any program binding port 0 may take between the probe and the bind
FLOOR = {"port": 16000, "reply": 28000}

START = time.monotonic()


def log(msg: str) -> None:
    """Progress on stderr (stdout's last line is the summary)."""
    print(f"[bench {time.monotonic() - START:6.1f}s] {msg}", file=sys.stderr, flush=True)


def left() -> float:
    """Seconds left in the time budget."""
    return BUDGET - (time.monotonic() - START)


# ---------------------------------------------------------------- /proc


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pid: int) -> int:
    """utime + stime of the process tree, in clock ticks."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of the process tree in kB."""
    pss = rss = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return pss, rss


def threads(pid: int) -> int:
    """Threads in the process tree."""
    n = 0
    for p in tree(pid):
        try:
            n += len(os.listdir(f"/proc/{p}/task"))
        except OSError:
            pass
    return n


def free_block(start: int, count: int) -> int:
    """The first even port >= @start with @count free UDP ports from it."""
    base = start
    while base + count < 65000:
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            base = (p + 2) & ~1
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} free UDP ports from {start}")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free for UDP (and TCP for websocket servers)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(socket.AF_INET, other) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


# ---------------------------------------------------------------- systems


@dataclass
class System:
    """A server under test and how to load it."""

    key: str
    title: str
    server: Callable[[int, int], list[str]]  # (port, calls) -> argv
    loadgen: Callable[[int, int, float, float], list[str]]  # (port, calls, duration, rate)
    programs: list[Path]
    rate: float  # calls set up per second
    reference: str = ""

    def missing(self) -> Optional[Path]:
        """The first program of this system that is not there."""
        for p in self.programs:
            if not p.exists():
                return p
        return None


def sip_loadgen(system: str) -> Callable[[int, int, float, float], list[str]]:
    """Argv of sip-loadgen for a SIP server."""
    return lambda port, n, dur, rate: [
        str(BUILD / "tests" / "bench" / "sip-loadgen"), "--system", system,
        "--target", f"127.0.0.1:{port}", "--calls", str(n), "--duration", str(dur),
        "--rate", str(rate), "--local-rtp-port", str(LOADGEN_RTP)]


def pipecat_sip_server(*extra: str) -> Callable[[int, int], list[str]]:
    """Argv of the Python level's server (pipecat_sip_echo.py) with @extra arguments."""
    return lambda port, n: [PYTHON, str(PY_DIR / "pipecat_sip_echo.py"), "--port", str(port),
                            "--rtp-port-range", SERVER_RTP_RANGE, "--workers", str(PY_WORKERS),
                            *extra]


SYSTEMS = {
    "c": System(
        "c", "C level (sip-echo-server)",
        lambda port, n: [str(BUILD / "tests" / "examples" / "sip-echo-server"),
                         "--port", str(port), "--rtp-port-range", SERVER_RTP_RANGE],
        sip_loadgen("c"),
        [BUILD / "tests" / "examples" / "sip-echo-server",
         BUILD / "tests" / "bench" / "sip-loadgen"],
        rate=100, reference="floor"),
    "floor": System(
        "floor", "Floor (plain GStreamer RTP echo)",
        lambda port, n: [str(BUILD / "tests" / "bench" / "floor-echo"),
                         "--port", str(FLOOR["port"]), "--reply-port", str(FLOOR["reply"]),
                         "--calls", str(n)],
        lambda port, n, dur, rate: [
            str(BUILD / "tests" / "bench" / "sip-loadgen"), "--system", "floor",
            "--no-sip", "--target", f"127.0.0.1:{FLOOR['port']}", "--calls", str(n),
            "--duration", str(dur), "--rate", str(rate),
            "--local-rtp-port", str(FLOOR["reply"])],
        [BUILD / "tests" / "bench" / "floor-echo", BUILD / "tests" / "bench" / "sip-loadgen"],
        rate=1000),
    "python": System(
        "python", f"Python level (pipecat_sip + echo bot, {PY_WORKERS} workers)",
        pipecat_sip_server(),
        sip_loadgen("python"),
        [PY_DIR / "pipecat_sip_echo.py", PY_DIR / "echo_bot.py",
         BUILD / "tests" / "bench" / "sip-loadgen", Path(PYTHON)],
        rate=20, reference="ws"),
    # the same server answering on the INVITE: only its INVITE->200 is measured
    "python-immediately": System(
        "python-immediately", "Python level, SIP_ANSWER=immediately",
        pipecat_sip_server("--answer", "immediately"),
        sip_loadgen("python"),
        [PY_DIR / "pipecat_sip_echo.py", PY_DIR / "echo_bot.py",
         BUILD / "tests" / "bench" / "sip-loadgen", Path(PYTHON)],
        rate=20, reference="ws"),
    "ws": System(
        "ws", f"Pipecat websocket (FastAPI + Twilio serializer + echo bot, {PY_WORKERS} workers)",
        lambda port, n: [PYTHON, str(PY_DIR / "pipecat_ws_echo.py"), "--port", str(port),
                         "--workers", str(PY_WORKERS)],
        lambda port, n, dur, rate: [
            PYTHON, str(PY_DIR / "ws_loadgen.py"), "--target", f"127.0.0.1:{port}",
            "--calls", str(n), "--duration", str(dur)],
        [PY_DIR / "pipecat_ws_echo.py", PY_DIR / "ws_loadgen.py",
         PY_DIR / "echo_bot.py", Path(PYTHON)],
        rate=20),
}


@dataclass
class Run:
    """One system at one number of calls."""

    system: str
    calls: int
    ok: bool = False
    error: str = ""
    result: dict = field(default_factory=dict)
    cpu_total_pct: float = 0.0  # server tree, % of one core
    cpu_per_call: float = 0.0
    loadgen_cpu_pct: float = 0.0
    mem_idle_kb: int = 0
    mem_loaded_kb: int = 0
    mem_per_call_kb: float = 0.0
    rss_per_call_kb: float = 0.0
    threads_idle: int = 0
    threads_loaded: int = 0
    window_s: float = 0.0

    @property
    def passed(self) -> bool:
        """Held all calls with loss and echo delay within the limits."""
        r = self.result
        return (self.ok and r.get("calls_failed", 1) == 0
                and r.get("calls_established", 0) == self.calls
                and r.get("loss_pct", 100) <= LOSS_MAX
                and 0 <= r.get("echo_delay_ms", {}).get("p99", -1) <= ECHO_P99_MAX)


def env() -> dict[str, str]:
    """Environment with the build's plugin, library and typelib first."""
    e = dict(os.environ)

    def pre(var: str, path: Path) -> None:
        e[var] = str(path) + (":" + e[var] if e.get(var) else "")

    pre("GST_PLUGIN_PATH", BUILD / "gst")
    pre("LD_LIBRARY_PATH", BUILD / "sip")
    pre("GI_TYPELIB_PATH", BUILD / "sip")
    e["GST_SIP_BUILDDIR"] = str(BUILD)
    e.setdefault("GST_DEBUG", "1")
    e["PYTHONUNBUFFERED"] = "1"
    return e


class Proc:
    """A child process whose stdout lines are collected by a thread."""

    def __init__(self, argv: list[str], logname: str):
        OUT.mkdir(parents=True, exist_ok=True)
        self.err = open(OUT / logname, "w")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err,
                                  env=env(), text=True, start_new_session=True)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append("\0EOF")
            self.cond.notify_all()

    def wait_line(self, what: str, timeout: float) -> bool:
        """Wait for a stdout line starting with @what; False on timeout or exit."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                if any(line.startswith(what) for line in self.lines):
                    return True
                if "\0EOF" in self.lines:
                    return False
                rest = end - time.monotonic()
                if rest <= 0:
                    return False
                self.cond.wait(rest)

    def wait_eof(self, timeout: float) -> None:
        """Wait until stdout has been read to its end (after the process exited)."""
        self.wait_line("\0EOF", timeout)

    def finish(self, timeout: float, kill_after: float) -> Optional[dict]:
        """Wait up to @timeout for the process to exit (else stop it, SIGKILL after
        @kill_after), then return its last JSON stdout line, or None."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(kill_after)
            return None
        self.wait_eof(10)
        self.stop()
        last = [line for line in self.lines if line.startswith("{")]
        return json.loads(last[-1]) if last else None

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after @timeout."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.err.close()


def measure(sys_: System, n: int, duration: float) -> Run:
    """Start the server, load it with @n calls for @duration s of steady media."""
    run = Run(sys_.key, n)
    ws = sys_.key.startswith("ws")
    port = free_port(socket.SOCK_STREAM if ws else socket.SOCK_DGRAM)
    if sys_.key == "floor":
        FLOOR["port"] = free_block(16000, 2 * n)
        FLOOR["reply"] = free_block(max(28000, FLOOR["port"] + 2 * n), 2 * n)
    server = Proc(sys_.server(port, n), f"{sys_.key}-{n}-server.log")
    try:
        if not server.wait_line("READY", 60):
            run.error = f"server not READY (see {OUT}/{sys_.key}-{n}-server.log)"
            return run
        time.sleep(0.5)
        run.mem_idle_kb, rss_idle = memory_kb(server.p.pid)
        run.threads_idle = threads(server.p.pid)
        if sys_.key == "floor":
            # the floor builds its N pipelines before READY: idle is 0 pipelines
            idle = Proc(sys_.server(port, 0), "floor-idle.log")
            if idle.wait_line("READY", 30):
                time.sleep(0.5)
                run.mem_idle_kb, rss_idle = memory_kb(idle.p.pid)
                run.threads_idle = threads(idle.p.pid)
            idle.stop()
        lg = Proc(sys_.loadgen(port, n, duration, sys_.rate), f"{sys_.key}-{n}-loadgen.log")
        setup_timeout = 30 + n / sys_.rate * 3
        marks = lg.wait_line("STEADY_START", setup_timeout)
        if marks:
            t0, c0, l0 = time.monotonic(), cpu_ticks(server.p.pid), cpu_ticks(lg.p.pid)
            # memory and threads in the middle of the window
            lg.wait_line("STEADY_END", duration / 2)
            run.mem_loaded_kb, rss_loaded = memory_kb(server.p.pid)
            run.threads_loaded = threads(server.p.pid)
            lg.wait_line("STEADY_END", duration + 30)
            t1, c1, l1 = time.monotonic(), cpu_ticks(server.p.pid), cpu_ticks(lg.p.pid)
        else:
            # a load generator without the marks: the middle half of its run
            t0 = c0 = l0 = 0
            rss_loaded = 0
        try:
            lg.p.wait(timeout=60 + n / sys_.rate * 2 + duration)
        except subprocess.TimeoutExpired:
            lg.stop(2)
            run.error = "load generator did not finish"
            return run
        lg.wait_eof(10)
        lg.stop()
        last = [line for line in lg.lines if line.startswith("{")]
        if not last:
            run.error = (f"load generator exited with {lg.p.returncode} and no JSON "
                         f"(see {OUT}/{sys_.key}-{n}-loadgen.log)")
            return run
        run.result = json.loads(last[-1])
        (OUT / f"{sys_.key}-{n}-loadgen.json").write_text(last[-1] + "\n")
        if run.result.get("send_errors"):
            run.error = f"{run.result['send_errors']} RTP packets could not be sent"
        run.ok = True
        if marks:
            run.window_s = t1 - t0
            run.cpu_total_pct = 100.0 * (c1 - c0) / CLK_TCK / run.window_s
            run.loadgen_cpu_pct = 100.0 * (l1 - l0) / CLK_TCK / run.window_s
        else:
            run.error = "no STEADY_START/STEADY_END from the load generator: CPU not measured"
        run.cpu_per_call = run.cpu_total_pct / n
        run.mem_per_call_kb = max(0, run.mem_loaded_kb - run.mem_idle_kb) / n
        run.rss_per_call_kb = max(0, rss_loaded - rss_idle) / n
        return run
    finally:
        server.stop()


def latency_run(sys_: System, rate: float, seconds: float, hold: float) -> Optional[dict]:
    """INVITE->200 at a steady call rate: calls of @hold s placed at @rate/s."""
    port = free_port()
    server = Proc(sys_.server(port, 0), f"{sys_.key}-latency-server.log")
    try:
        if not server.wait_line("READY", 60):
            return None
        argv = sip_loadgen(sys_.key)(port, int(rate * seconds), 0, rate) + ["--hold", str(hold)]
        lg = Proc(argv, f"{sys_.key}-latency-loadgen.log")
        return lg.finish(seconds + hold + 40, 2)
    finally:
        server.stop()


def bargein_run(system: str, runs: int) -> Optional[dict]:
    """Barge-in flush time at N=1 (bargein.py starts its own server)."""
    argv = [PYTHON, str(PY_DIR / "bargein.py"), "--system", system, "--runs", str(runs)]
    return Proc(argv, f"bargein-{system}.log").finish(30 + 15 * runs, 5)


# Input frame lengths of the Pipecat pipelines compared: SIPParams' default for the
# Python level; a Twilio media message (20 ms) for the websocket reference.
SIP_FRAME_MS, TWILIO_FRAME_MS = 40, 20


def pipecat_alone_run(n: int, duration: float, frame_ms: int) -> Optional[dict]:
    """CPU of the same echo bot with no I/O at all (pipecat_null_echo.py), N calls
    fed ``frame_ms`` frames: the least any Pipecat transport can cost with it."""
    argv = [PYTHON, str(PY_DIR / "pipecat_null_echo.py"), "--calls", str(n),
            "--duration", str(duration), "--frame-ms", str(frame_ms)]
    return Proc(argv, f"pipecat-alone-{n}-{frame_ms}ms.log").finish(40 + duration + n / 10, 5)


def listening(sys_: System) -> System:
    """@sys_ with its bot in listen mode: it hears the caller and says nothing."""
    return replace(sys_, key=f"{sys_.key}-listen", title=f"{sys_.title}, the bot listening",
                   server=lambda port, n, argv=sys_.server: argv(port, n) + ["--bot", "listen"])


def est_cost(sys_: System, n: int, duration: float) -> float:
    """Rough seconds one measure() takes."""
    start = 6 if sys_.key in ("python", "ws") else 1.5
    return start + 1.5 * n / sys_.rate + 1 + duration + 1.5 + n / (2 * sys_.rate) + 2


def ramp(systems: list[System], steps: list[int], duration: float, budget: float,
         runs: list[Run]) -> None:
    """The systems at each N in turn (the reference first: same minute, same N),
    each until it fails or the budget is spent."""
    end = time.monotonic() + budget
    alive = {s.key: True for s in systems}
    fails = {s.key: 0 for s in systems}
    for n in steps:
        for s in systems:
            if not alive[s.key]:
                continue
            if time.monotonic() + est_cost(s, n, duration) > end or \
                    est_cost(s, n, duration) > left() - 5:
                log(f"{s.key} N={n}: skipped, out of time budget")
                alive[s.key] = False
                continue
            log(f"{s.key} N={n} ...")
            r = measure(s, n, duration)
            runs.append(r)
            res = r.result
            log(f"{s.key} N={n}: {'PASS' if r.passed else 'FAIL'} "
                f"up={res.get('calls_established')} loss={res.get('loss_pct')}% "
                f"echo p99={res.get('echo_delay_ms', {}).get('p99')} ms "
                f"cpu/call={r.cpu_per_call:.2f}% mem/call={r.mem_per_call_kb:.0f} kB "
                f"threads={r.threads_loaded}-{r.threads_idle} {r.error}")
            # a step beyond the limits ends the ramp if calls failed, most of
            # the audio was lost, or it was the second in a row: one bad step
            # can be a neighbour's load on a shared machine
            fails[s.key] = 0 if r.passed else fails[s.key] + 1
            res = r.result
            if not r.ok or res.get("calls_failed", 1) > 0 or \
                    res.get("loss_pct", 100) > 20 or fails[s.key] >= 2:
                alive[s.key] = False
        if not any(alive.values()):
            break


# ---------------------------------------------------------------- report


def cmd(argv: list[str]) -> str:
    """First line of a command's output, or '?'."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, env=env())
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def machine() -> list[str]:
    """Machine and versions, as Markdown list items."""
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
    except (OSError, StopIteration):
        mem = "?"
    load = os.getloadavg()
    pipecat = cmd([PYTHON, "-c", "import importlib.metadata as m; print(m.version('pipecat-ai'))"]) \
        if Path(PYTHON).exists() else "(no .venv)"
    return [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"mode: {'quick (BENCH_QUICK=1)' if QUICK else 'full'}, "
        f"git {cmd(['git', '-C', str(ROOT), 'describe', '--always', '--dirty'])}",
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {int(mem) // 1024 if mem != '?' else '?'} MB; "
        f"load average at start {load[0]:.2f}",
        f"- Kernel: {platform.system()} {platform.release()}; {cmd(['sh', '-c', '. /etc/os-release; echo $PRETTY_NAME'])}",
        f"- GStreamer: {cmd(['gst-launch-1.0', '--version']).split()[-1]}; "
        f"libosip2 {cmd(['pkg-config', '--modversion', 'libosip2'])}; "
        f"Python {platform.python_version()} (driver); pipecat-ai {pipecat}",
    ]


def fmt(v: Optional[float], nd: int = 2) -> str:
    return "-" if v is None else f"{v:.{nd}f}"


def best(runs: list[Run], key: str) -> Optional[Run]:
    """The largest N this system held."""
    ok = [r for r in runs if r.system == key and r.passed]
    return max(ok, key=lambda r: r.calls) if ok else None


def pair(runs: list[Run], a: str, b: str) -> tuple[Optional[Run], Optional[Run]]:
    """Runs of @a and @b at the largest N both held (else the largest both ran)."""
    ra = {r.calls: r for r in runs if r.system == a and r.ok}
    rb = {r.calls: r for r in runs if r.system == b and r.ok}
    both = sorted(set(ra) & set(rb))
    held = [n for n in both if ra[n].passed and rb[n].passed]
    n = (held or both or [None])[-1]
    return (ra.get(n), rb.get(n)) if n is not None else (None, None)


def ratio(x: Optional[float], y: Optional[float]) -> Optional[float]:
    """x / y, None when either is unknown."""
    return x / y if x is not None and y else None


def fmt_ratio(v: Optional[float]) -> str:
    """A ratio with 2 significant digits at least."""
    return "-" if v is None else (f"{v:.2f}" if v >= 0.1 else f"{v:.2g}")


def report(runs: list[Run], latency: dict[str, dict], skipped: list[str],
           bargein: dict[str, dict], alone: Optional[dict[int, dict]] = None,
           listen: Optional[dict[str, Run]] = None) -> str:
    """Write RESULTS.md; return the summary line."""
    c, fl = pair(runs, "c", "floor")
    py, ws = pair(runs, "python", "ws")
    bc, bf, bp, bw = (best(runs, k) for k in ("c", "floor", "python", "ws"))
    lines = ["# Benchmark results", "",
             "Generated by `tests/bench/run.py` (`make bench`); see README.md, "
             "section Benchmarks. Loopback, one machine: the load generators share the "
             "cores with the server under test.", ""]
    lines += machine() + [""]
    for s in skipped:
        lines.append(f"- skipped: {s}")
    if skipped:
        lines.append("")

    lines += ["## Summary", "",
              "| figure | C level | floor | C / floor | Python level | Pipecat ws | Python / ws |",
              "| --- | --- | --- | --- | --- | --- | --- |"]

    def row(name: str, get: Callable[[Run], Optional[float]], nd: int = 2,
            a: Optional[Run] = c, b: Optional[Run] = fl,
            pa: Optional[Run] = py, pb: Optional[Run] = ws) -> None:
        va, vb = (get(a) if a else None), (get(b) if b else None)
        vp, vw = (get(pa) if pa else None), (get(pb) if pb else None)
        lines.append(f"| {name} | {fmt(va, nd)} | {fmt(vb, nd)} | {fmt_ratio(ratio(va, vb))} "
                     f"| {fmt(vp, nd)} | {fmt(vw, nd)} | {fmt_ratio(ratio(vp, vw))} |")

    row("max concurrent calls held (loss <= 0.1 %, echo p99 <= 100 ms)",
        lambda r: float(r.calls), 0, bc, bf, bp, bw)
    lines.append(f"| ... N compared below | {c.calls if c else '-'} | {fl.calls if fl else '-'} | "
                 f"| {py.calls if py else '-'} | {ws.calls if ws else '-'} | |")
    row("server CPU per call (% of one core)", lambda r: r.cpu_per_call, 3)
    alone_py, alone_ws = ((alone or {}).get(ms) for ms in (SIP_FRAME_MS, TWILIO_FRAME_MS))
    if alone_py and py and ws and alone_py.get("calls") == ws.calls:
        # Pipecat's pipeline at each transport's frame length, and what is left: the
        # transport's own cost (sockets, codecs, GStreamer, the glue into Pipecat)
        va = alone_py["cpu_per_call_pct"]
        vb = alone_ws["cpu_per_call_pct"] if alone_ws else None
        lines.append(f"| ... of which Pipecat alone: the same bot, no I/O (pipecat_null_echo.py), "
                     f"{SIP_FRAME_MS} ms frames (SIPParams) / {TWILIO_FRAME_MS} ms (Twilio's); "
                     f"ratio: to the reference's whole CPU "
                     f"| | | | {fmt(va, 3)} | {fmt(vb, 3)} | {fmt_ratio(ratio(va, ws.cpu_per_call))} |")
        # a noisy minute can make the difference negative: no figure then
        tp = py.cpu_per_call - va if py.cpu_per_call > va else None
        tw = ws.cpu_per_call - vb if vb is not None and ws.cpu_per_call > vb else None
        lines.append(f"| ... the rest: the transport's own cost (CPU per call - Pipecat alone) "
                     f"| | | | {fmt(tp, 3)} | {fmt(tw, 3)} | {fmt_ratio(ratio(tp, tw))} |")
    lp, lw = ((listen or {}).get(k) for k in ("python", "ws"))
    if lp or lw:
        # most of a voice bot's call: the caller talks, the bot says nothing (the SIP
        # call still sends keep-alive silence; a Twilio stream sends nothing)
        vp, vw = (r.cpu_per_call if r and r.ok else None for r in (lp, lw))
        lines.append(f"| server CPU per call, the bot listening (`--bot listen`, "
                     f"N={(lp or lw).calls}) | | | | {fmt(vp, 3)} | {fmt(vw, 3)} "
                     f"| {fmt_ratio(ratio(vp, vw))} |")
    row("memory per call (PSS, kB)", lambda r: r.mem_per_call_kb, 0)
    row("threads per call", lambda r: (r.threads_loaded - r.threads_idle) / r.calls, 1)
    row("loss (%)", lambda r: r.result.get("loss_pct"), 3)
    row("echo delay p50 (ms)", lambda r: r.result["echo_delay_ms"]["p50"], 1)
    row("echo delay p99 (ms)", lambda r: r.result["echo_delay_ms"]["p99"], 1)
    for k, name in (("c", "C level"), ("python", "Python level"),
                    ("python-immediately", "Python level, SIP_ANSWER=immediately")):
        lat = latency.get(k)
        if lat:
            lines.append(f"| INVITE->200 {name} at {lat['rate']:g} calls/s, p50 / p99 (ms) | "
                         + ("" if k == "c" else "| | | ")
                         + f"{fmt(lat['setup_ms']['p50'])} / {fmt(lat['setup_ms']['p99'])} |"
                         + (" | | | | |" if k == "c" else " | |"))
    if bargein:
        def flush(k: str, q: str) -> Optional[float]:
            return bargein.get(k, {}).get("flush_ms", {}).get(q)

        for q in ("p50", "p99"):
            vp, vw = flush("sip", q), flush("ws", q)
            lines.append(f"| barge-in flush time {q} (ms, N=1) | | | | {fmt(vp, 0)} "
                         f"| {fmt(vw, 0)} | {fmt_ratio(ratio(vp, vw))} |")
    lines += ["", "Ratios compare two systems at the same N (the largest both held). "
              "CPU = utime+stime of the server's process tree over the steady window, "
              "/ wall time / N. Memory = (PSS with N calls - PSS idle) / N. Echo delay = "
              "an audio marker (a 20 ms tone once a second per call) sent -> found back "
              "by its energy. Loss = payload bytes back / bytes sent from each call's "
              "first steady marker on.", "",
              "## Every run", "",
              "| system | N | up | failed | loss % | echo p50 / p99 ms | setup p50 / p99 ms "
              "| CPU total % | CPU/call % | PSS/call kB | RSS/call kB | threads idle -> loaded "
              "| loadgen CPU % | held |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        res = r.result
        e, s = res.get("echo_delay_ms", {}), res.get("setup_ms", {})
        lines.append(
            f"| {r.system} | {r.calls} | {res.get('calls_established', '-')} "
            f"| {res.get('calls_failed', '-')} | {fmt(res.get('loss_pct'), 3)} "
            f"| {fmt(e.get('p50'), 1)} / {fmt(e.get('p99'), 1)} "
            f"| {fmt(s.get('p50'))} / {fmt(s.get('p99'))} | {r.cpu_total_pct:.1f} "
            f"| {r.cpu_per_call:.3f} | {r.mem_per_call_kb:.0f} | {r.rss_per_call_kb:.0f} "
            f"| {r.threads_idle} -> {r.threads_loaded} | {r.loadgen_cpu_pct:.1f} "
            f"| {'yes' if r.passed else 'no'} {r.error} |")
    lines.append("")
    for k, lat in latency.items():
        lines.append(f"INVITE->200 ({k}): {lat['calls_requested']} calls at {lat['rate']:g}/s, "
                     f"each held {lat['hold']:g} s: p50 {fmt(lat['setup_ms']['p50'])} ms, "
                     f"p99 {fmt(lat['setup_ms']['p99'])} ms, failed {lat['calls_failed']}.")
    lines.append("")

    kept = ""
    if RESULTS.exists():
        old = RESULTS.read_text()
        if KEEP in old:
            kept = old[old.index(KEEP):]
    RESULTS.write_text("\n".join(lines) + "\n" + (kept or KEEP + "\n"))

    head = bc or c
    z = ratio(c.cpu_per_call if c else None, fl.cpu_per_call if fl else None)
    w = ratio(py.cpu_per_call if py else None, ws.cpu_per_call if ws else None)
    return (f"concurrent_calls={head.calls if bc else 0} "
            f"loss_pct={fmt(head.result.get('loss_pct') if head else None, 3)} "
            f"cpu_per_call_pct={fmt(c.cpu_per_call if c else None, 3)} "
            f"ratio_vs_floor={fmt(z)} ratio_vs_pipecat_ws={fmt(w)}")


def main() -> int:
    """Run the benchmark; print the summary line last."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # 2 sockets per call on each side
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    wanted = os.environ.get("BENCH_SYSTEMS", "c,floor,python,python-immediately,ws").split(",")
    systems: dict[str, System] = {}
    skipped: list[str] = []
    for k in wanted:
        s = SYSTEMS[k.strip()]
        m = s.missing()
        if m:
            msg = f"{s.key} ({s.title}): {m} is missing"
            log("SKIP " + msg)
            skipped.append(msg)
        else:
            systems[s.key] = s
    if QUICK:
        duration, c_steps, py_steps = 4.0, [20, 100], [5]
        c_share, lat, bargein_runs, bargein_reserve = 0.45, (20.0, 4.0, 1.0), 2, 26
        # the quick mode has no Pipecat-alone and no listening runs: its time goes to
        # the Python level and its reference at 5 calls
        alone_reserve, listen_reserve = 0, 0
    else:
        duration, c_steps, py_steps = 10.0, [50, 100, 200, 300, 400, 500, 600, 800, 1000], \
            [20, 40, 50, 75, 100, 150]
        c_share, lat, bargein_runs, bargein_reserve = 0.5, (20.0, 10.0, 2.0), 5, 60
        alone_reserve, listen_reserve = 35, 45
    if os.environ.get("BENCH_PY_STEPS"):  # e.g. 20,50,100: a Python-only measurement
        py_steps = [int(n) for n in os.environ["BENCH_PY_STEPS"].split(",") if n.strip()]
    runs: list[Run] = []
    latency: dict[str, dict] = {}
    bargein: dict[str, dict] = {}

    # quick: the Python level's INVITE->200 comes from its ramp run only
    for k in ("c",) if QUICK else ("c", "python", "python-immediately"):
        if k in systems and left() > 30:
            rate, secs, hold = lat if k == "c" else (lat[0] / 4, lat[1], lat[2])
            log(f"{k}: INVITE->200 at {rate:g} calls/s for {secs:g} s")
            res = latency_run(systems[k], rate, secs, hold)
            if res:
                res.update(rate=rate, hold=hold)
                latency[k] = res
                log(f"{k}: setup p50 {res['setup_ms']['p50']} ms p99 {res['setup_ms']['p99']} ms")
    pairs = [["floor", "c"], ["ws", "python"]]
    for i, keys in enumerate(pairs):
        group = [systems[k] for k in keys if k in systems]
        if not group:
            continue
        more = i == 0 and any(k in systems for k in pairs[1])
        reserve = 10 + (bargein_reserve + alone_reserve + listen_reserve
                        if "python" in systems and "ws" in systems else 0)
        share = left() * c_share if more else left() - reserve
        ramp(group, c_steps if i == 0 else py_steps, duration, share, runs)

    alone: dict[int, dict] = {}
    _, compared_ws = pair(runs, "python", "ws")
    if compared_ws and alone_reserve and (PY_DIR / "pipecat_null_echo.py").exists():
        for ms in (SIP_FRAME_MS, TWILIO_FRAME_MS):
            if left() > 25:
                log(f"Pipecat alone (no I/O) at N={compared_ws.calls}, {ms} ms frames")
                res = pipecat_alone_run(compared_ws.calls, duration, ms)
                log(f"Pipecat alone: {res}")
                if res:
                    alone[ms] = res

    listen: dict[str, Run] = {}
    if compared_ws and listen_reserve:
        for k in ("python", "ws"):
            if k in systems and left() > 25:
                log(f"{k}: the bot listening, N={compared_ws.calls}")
                r = measure(listening(systems[k]), compared_ws.calls, duration)
                if r.ok:
                    r.error = "listening bot: nothing is echoed"
                listen[k] = r
                runs.append(r)
                log(f"{k} listening: {r.cpu_per_call:.3f} % CPU per call {r.error}")

    if "python" in systems and "ws" in systems:
        if (PY_DIR / "bargein.py").exists():
            for k in ("sip", "ws"):
                if left() > 12:
                    log(f"barge-in flush time, {k}")
                    res = bargein_run(k, bargein_runs)
                    if res:
                        bargein[k] = res
                        log(f"barge-in {k}: {res.get('flush_ms')}")
                    else:
                        log(f"barge-in {k}: no result (see {OUT}/bargein-{k}.log)")
        else:
            msg = f"barge-in: {PY_DIR / 'bargein.py'} is missing"
            log("SKIP " + msg)
            skipped.append(msg)

    line = report(runs, latency, skipped, bargein, alone, listen)
    log(f"wrote {RESULTS.relative_to(ROOT)}")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
