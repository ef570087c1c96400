"""A whole call through the echo pipeline under valgrind: no definite leak.

`gst-launch-1.0 sipsrc ! queue ! sipsink` (the line of pipelines/echo.sh)
runs under memcheck while sipp places a real call (INVITE, speech as RTP,
BYE); the pipeline ends by itself after the BYE and valgrind's leak summary
must say "definitely lost: 0 bytes"; once with sipsrc's own udpsrc/rtpbin
threads and once with its shared receive threads (and the shared ticker,
which every sipsrc/sipsink uses). GLib's own suppressions and
tests/valgrind.supp (leaks proven to be in system libraries, never ours)
apply. Skipped when valgrind is not installed.
"""

import re
import shutil
import signal
from pathlib import Path

import pytest

from conftest import HERE, LOCALHOST, Server, base_env, free_udp_port, free_udp_range

GLIB_SUPP = Path("/usr/share/glib-2.0/valgrind/glib.supp")
OUR_SUPP = HERE.parent / "valgrind.supp"

# memcheck runs the pipeline 20-50 times slower: time to start, to answer and
# to wind down after the BYE
START_S = 90
EXIT_AFTER_BYE_S = 120


def speech_ms(ulaw_path: Path) -> int:
    """Duration of a raw 8 kHz mu-law file in ms."""
    return len(ulaw_path.read_bytes()) // 8


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("shared", [False, True], ids=["per-call-threads", "shared-threads"])
def test_echo_call_under_valgrind_has_no_definite_leak(procs, sipp, audio_files, workdir, shared):
    """sipp calls the echo pipeline under valgrind; after the BYE it exits 0
    and valgrind reports no definitely lost block."""
    port = free_udp_port()
    lo, hi = free_udp_range()
    log = workdir / "valgrind.log"
    env = base_env()
    env["G_SLICE"] = "always-malloc"
    env["G_DEBUG"] = "gc-friendly"
    supps = [f"--suppressions={s}" for s in (GLIB_SUPP, OUR_SUPP) if s.exists()]
    cmd = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite",
           "--errors-for-leak-kinds=definite", "--num-callers=40",
           f"--log-file={log}", *supps,
           "gst-launch-1.0", "-m", "sipsrc", f"port={port}", f"host={LOCALHOST}",
           f"rtp-port-range={lo}-{hi}", f"shared-threads={str(shared).lower()}",
           "!", "queue", "!", "sipsink"]
    proc = procs.start("valgrind-echo", cmd, env=env, stop_signal=signal.SIGINT)
    srv = Server(proc, port, f"{lo}-{hi}").wait_ready(timeout=START_S)

    r = sipp("call-rtp.xml", srv.port, replace={"@ULAW_FILE@": audio_files.speech_ulaw},
             duration_ms=speech_ms(audio_files.speech_ulaw) + 300, timeout=90)
    assert r.rc == 0, r.summary()
    rc = srv.wait_exit(EXIT_AFTER_BYE_S)
    assert rc == 0, f"gst-launch under valgrind did not exit 0 after the BYE (rc {rc})"
    ended = srv.messages("sip-call-ended")
    assert ended and ended[-1].get("reason") == "remote-bye", srv.proc.output()[-3000:]

    report = log.read_text(errors="replace")
    assert "ERROR SUMMARY" in report, report[-3000:]
    m = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", report)
    if m is None:
        # printed instead of a leak summary when nothing at all is left
        assert "All heap blocks were freed" in report, report[-3000:]
    else:
        assert m.group(1) == "0", "definite leaks:\n" + report[-20000:]
