"""The multi-call example, tests/examples/sip-echo-server: one SipAgent, one
`sipsrc call=... ! sipsink` pipeline per call in one process.

Several baresip softphones call it at once and each must hear its own voice (not
another caller's) back: with shared-threads (its default) every call's RTP is
received and echoed by the same few threads, so a call that made them wait would
hold up the others; --per-call-threads is the udpsrc/rtpbin layout.
"""

import pytest

from conftest import BUILD_DIR, LOCALHOST, free_udp_port, free_udp_range, make_speech, sip_lib_env
from test_calls import ECHO_MIN_CORRELATION, assert_correlates, wav_seconds

# what each caller says: hearing another caller's voice scores low
CALLER_TEXTS = (
    "Caller one speaking. Alpha, bravo, charlie, delta, echo, foxtrot.",
    "This is caller two, counting: seven, eight, nine, ten, eleven, twelve.",
    "Third caller here, with a different sentence about the weather today.",
)


@pytest.fixture
def echo_server(procs):
    """echo_server(*args) starts sip-echo-server on free ports, waits for READY."""

    def start(*args):
        port = free_udp_port()
        lo, hi = free_udp_range()
        binary = BUILD_DIR / "tests" / "examples" / "sip-echo-server"
        assert binary.exists(), f"{binary} not built"
        p = procs.start("sip-echo-server", [binary, "--port", str(port),
                                            "--rtp-port-range", f"{lo}-{hi}", *args],
                        env=sip_lib_env())
        for _ in range(100):
            if "READY" in p.output():
                return f"sip:echo@{LOCALHOST}:{port}"
            assert p.poll() is None, f"sip-echo-server exited:\n{p.output()[-3000:]}"
            p.wait(0.1)
        raise AssertionError(f"sip-echo-server not READY:\n{p.output()[-3000:]}")

    return start


@pytest.mark.parametrize("mode", [[], ["--per-call-threads"]], ids=["shared-threads", "per-call-threads"])
def test_echo_server_callers_hear_themselves(echo_server, baresip, workdir, mode):
    uri = echo_server(*mode)
    speeches = [make_speech(workdir, f"caller{i}", text)[0] for i, text in enumerate(CALLER_TEXTS)]
    calls = [baresip(uri, s, seconds=int(wav_seconds(s)) + 10, user=f"caller{i}")
             for i, s in enumerate(speeches)]
    for call in calls:
        call.wait(60)
    for i, (call, speech) in enumerate(zip(calls, speeches)):
        assert call.established, call.log[-3000:]
        assert_correlates(speech, call.heard_wav, ECHO_MIN_CORRELATION, f"caller {i}")
