"""SIP signalling interop: sipp (sip-tester) scenarios from tests/interop/sipp/
against the gst-sip echo pipeline (pipelines/echo.sh) and the SIP library.

sipp exit codes: 0 = every call succeeded, 1 = some failed, 255 = fatal / global
timeout. Each test also checks what gst-launch-1.0 did (bus messages via -m, exit).
"""

import re
import signal
import time

from conftest import BUILD_DIR, HERE, LOCALHOST, PIPELINES, SIPP_PCAP_DIR, base_env, free_udp_port, \
    free_udp_range, udp_port_bound

# The echo pipeline runs until the call ends; these are the seconds it may take
# to notice and exit after the BYE.
EXIT_AFTER_BYE_S = 10


def speech_ms(ulaw_path):
    return int(len(open(ulaw_path, "rb").read()) / 8)


def test_options_ping_answered_200_with_allow(server, sipp):
    srv = server("echo.sh")
    r = sipp("options.xml", srv.port, timeout=20)
    assert r.rc == 0, r.summary()
    assert "Allow has INVITE ACK BYE CANCEL OPTIONS" in r.log, r.summary()
    # an OPTIONS ping is no call: the pipeline keeps waiting for one
    assert srv.proc.poll() is None, "echo pipeline ended after an OPTIONS ping"


def test_bye_for_unknown_dialog_gets_481(server, sipp):
    srv = server("echo.sh")
    r = sipp("bye-481.xml", srv.port, timeout=20)
    assert r.rc == 0, r.summary()
    assert srv.proc.poll() is None, "echo pipeline ended after a stray BYE"


def test_pcma_only_offer_gets_488_then_a_pcmu_call_works(server, sipp, audio_files):
    srv = server("echo.sh")
    r = sipp("pcma-488.xml", srv.port, timeout=20)
    assert r.rc == 0, r.summary()
    assert srv.proc.poll() is None, "echo pipeline ended after a rejected offer"
    # the rejected offer cost nothing: the next (PCMU) call is answered
    r2 = sipp("call-rtp.xml", srv.port, replace={"@ULAW_FILE@": audio_files.speech_ulaw},
              duration_ms=1000, timeout=30)
    assert r2.rc == 0, r2.summary()
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "echo pipeline did not end after the call"


def test_call_with_rtp_then_caller_bye_ends_pipeline(server, sipp, audio_files):
    """INVITE/ACK/BYE with 4+ s of speech as RTP. The echo pipeline must answer,
    post its bus messages, and exit 0 by itself (EOS) after the caller's BYE."""
    srv = server("echo.sh")
    r = sipp("call-rtp.xml", srv.port, replace={"@ULAW_FILE@": audio_files.speech_ulaw},
             duration_ms=speech_ms(audio_files.speech_ulaw) + 300, timeout=40)
    assert r.rc == 0, r.summary()
    assert "m=audio" in r.log and "RTP/AVP 0" in r.log, r.summary()
    rc = srv.wait_exit(EXIT_AFTER_BYE_S)
    assert rc == 0, f"gst-launch did not exit 0 after BYE (rc {rc})"

    incoming = srv.messages("sip-call-incoming")
    answered = srv.messages("sip-call-answered")
    ended = srv.messages("sip-call-ended")
    assert incoming and answered and ended, "missing sip-call-* bus messages:\n" + srv.proc.output()[-3000:]
    assert ended[-1].get("call-id") == r.call_id(), (ended, r.call_id())
    assert answered[-1].get("call-id") == r.call_id(), answered
    assert ended[-1].get("reason") == "remote-bye", ended
    assert "sipp" in ended[-1].get("from", ""), ended
    assert ended[-1].get("remote-address", "").startswith(LOCALHOST + ":"), ended


def test_second_call_while_busy_gets_486(server, sipp, audio_files):
    srv = server("echo.sh")
    first = sipp.start("call-rtp.xml", srv.port,
                       replace={"@ULAW_FILE@": audio_files.speech_ulaw},
                       duration_ms=5000, timeout=40)
    # wait until the first call is up
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not srv.messages("sip-call-answered"):
        time.sleep(0.1)
    assert srv.messages("sip-call-answered"), "first call was not answered:\n" + srv.proc.output()[-3000:]
    r = sipp("invite-rejected.xml", srv.port, replace={"@CODE@": 486}, timeout=20)
    assert r.rc == 0, r.summary()
    rc1 = first.wait(40)
    assert rc1 == 0, sipp.result(first).summary()
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0


def test_missing_ack_200_retransmitted_then_bye(server, sipp):
    """No ACK for the 200 OK: the 200 must be retransmitted with RFC 3261 timing
    (T1 = 500 ms doubling up to T2 = 4 s) and the call torn down with BYE after
    64*T1 = 32 s. Counts the retransmissions sipp received."""
    srv = server("echo.sh")
    r = sipp("no-ack.xml", srv.port, timeout=60)
    assert r.rc == 0, r.summary()
    msgs = r.received()
    oks = [t for t, first, text in msgs
           if first.startswith("SIP/2.0 200") and re.search(r"(?im)^CSeq:\s*1\s+INVITE", text)]
    byes = [t for t, first, _ in msgs if first.startswith("BYE ")]
    assert oks, r.summary()
    assert byes, "no BYE received\n" + r.summary()
    retrans = len(oks) - 1
    intervals = [b - a for a, b in zip(oks, oks[1:])]
    print(f"200 OK sent {len(oks)} times ({retrans} retransmissions), intervals "
          + ", ".join(f"{i:.2f}" for i in intervals) + f"; BYE after {byes[0] - oks[0]:.1f} s")
    assert retrans >= 6, f"only {retrans} retransmissions of the 200 OK"
    assert 0.35 <= intervals[0] <= 0.9, f"first retransmission after {intervals[0]:.2f} s, expected T1=0.5 s"
    assert all(i <= 4.8 for i in intervals), f"interval over T2=4 s: {intervals}"
    assert all(b >= a - 0.3 for a, b in zip(intervals, intervals[1:])), f"intervals shrink: {intervals}"
    assert 28 <= byes[0] - oks[0] <= 40, f"BYE {byes[0] - oks[0]:.1f} s after the 200, expected ~32 s"
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0, "echo pipeline did not end after the ACK timeout"
    ended = srv.messages("sip-call-ended")
    assert ended and ended[-1].get("reason") == "ack-timeout", ended


def test_hold_and_resume_reinvite(server, sipp, audio_files):
    srv = server("echo.sh")
    r = sipp("hold-resume.xml", srv.port, replace={"@ULAW_FILE@": audio_files.speech_ulaw},
             timeout=40)
    assert r.rc == 0, r.summary()
    assert "hold answered with a=recvonly" in r.log, r.summary()
    assert "resume answered with a=sendrecv" in r.log, r.summary()
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0


def test_dtmf_rfc4733_digits_posted_on_bus(server, sipp):
    srv = server("echo.sh")
    r = sipp("dtmf.xml", srv.port, replace={"@PCAP_DIR@": SIPP_PCAP_DIR}, timeout=40)
    assert r.rc == 0, r.summary()
    assert srv.wait_exit(EXIT_AFTER_BYE_S) == 0
    digits = [m.get("digit") for m in srv.messages("sip-dtmf")]
    assert digits == ["1", "5", "9"], "sip-dtmf messages: %r\n%s" % (
        srv.messages("sip-dtmf"), srv.proc.output()[-3000:])


def test_cancel_before_answer_gets_200_and_487(procs, sipp):
    """A caller CANCELs a ringing call. Uses the SIP library directly
    (tests/interop/sipua.py: rings, never answers)."""
    port = free_udp_port()
    lo, hi = free_udp_range()
    env = base_env()
    env["GI_TYPELIB_PATH"] = str(BUILD_DIR / "sip") + (":" + env["GI_TYPELIB_PATH"] if env.get("GI_TYPELIB_PATH") else "")
    env["LD_LIBRARY_PATH"] = str(BUILD_DIR / "sip") + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    ua = procs.start("sipua", ["/usr/bin/python3", HERE / "sipua.py", "--port", port,
                               "--rtp-port-range", f"{lo}-{hi}", "--mode", "ring"],
                     env=env, stop_signal=signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not udp_port_bound(port):
        assert ua.poll() is None, ua.output()
        assert time.monotonic() < deadline, ua.output()
        time.sleep(0.05)
    r = sipp("cancel.xml", port, timeout=20)
    assert r.rc == 0, r.summary() + "\n" + ua.output()
    assert "200 for CANCEL" in r.log and "487 for INVITE" in r.log, r.summary()
    time.sleep(0.5)
    out = ua.output()
    assert re.search(r"^ended \S+ cancelled$", out, re.M), out


def test_cancel_ringing_sipsrc(server, sipp):
    """sipsrc auto-answer=false rings and waits for the application: a CANCEL ends
    the call (200 + 487), sipsrc posts sip-call-ended reason=cancelled."""
    srv = server(launch="sipsrc port={port} rtp-port-range={rtp_range} auto-answer=false ! fakesink")
    r = sipp("cancel.xml", srv.port, timeout=20)
    assert r.rc == 0, r.summary()
    assert "200 for CANCEL" in r.log and "487 for INVITE" in r.log, r.summary()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not srv.messages("sip-call-ended"):
        time.sleep(0.1)
    ended = srv.messages("sip-call-ended")
    assert ended and ended[-1].get("reason") == "cancelled", ended
    assert ended[-1].get("call-id") == r.call_id(), ended


def test_source_outside_allowed_sources_gets_403(server, sipp):
    srv = server(launch="sipsrc port={port} rtp-port-range={rtp_range} "
                        "allowed-sources=192.0.2.0/24,2001:db8::/32 ! queue ! sipsink")
    r = sipp("invite-rejected.xml", srv.port, replace={"@CODE@": 403}, timeout=20)
    assert r.rc == 0, r.summary()
    assert srv.proc.poll() is None, "pipeline ended after a refused call"
    assert not srv.messages("sip-call-answered")


def test_port_in_use_is_a_clear_error(server, procs):
    srv = server("echo.sh")
    p = procs.start("second-echo", [PIPELINES / "echo.sh", str(srv.port)], stop_signal=signal.SIGINT)
    rc = p.wait(15)
    assert rc not in (None, 0), f"a second pipeline on port {srv.port} did not fail (rc {rc})"
    out = p.output()
    assert "ERROR" in out and "in use" in out, out[-2000:]


def test_bad_rtp_port_range_is_a_clear_error(procs):
    port = free_udp_port()
    env = base_env()
    p = procs.start("bad-range", ["gst-launch-1.0", "sipsrc", f"port={port}",
                                  "rtp-port-range=15000-10000", "!", "fakesink"],
                    env=env, stop_signal=signal.SIGINT)
    rc = p.wait(15)
    assert rc not in (None, 0), "a reversed RTP port range was accepted"
    out = p.output()
    assert "ERROR" in out and "range" in out.lower(), out[-2000:]
