#!/usr/bin/python3
"""A small SIP user-agent server on the gst-sip library (libsipua, GIR "Sip" 1.0),
for interop cases the gst-launch pipelines cannot produce on purpose, e.g. a call
that rings and is never answered (so that the caller CANCELs it).

    GI_TYPELIB_PATH=build/sip LD_LIBRARY_PATH=build/sip \\
      /usr/bin/python3 tests/interop/sipua.py --port 6060 --mode ring

Modes:
  ring         answer INVITEs with 180 Ringing and never answer
  reject:CODE  reject INVITEs with CODE (e.g. reject:486)
  answer       answer at once (200 OK with SDP), no media is sent

Prints one line per event ("incoming <call-id>", "state <call-id> <state>",
"ended <call-id> <reason>") on stdout, flushed. Ends on SIGINT/SIGTERM.
"""

import argparse
import signal
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Sip", "1.0")
from gi.repository import GLib, Sip  # noqa: E402


def say(*words):
    print(*words, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6060)
    ap.add_argument("--rtp-port-range", default=None)
    ap.add_argument("--mode", default="ring")
    args = ap.parse_args()

    agent = Sip.Agent()
    agent.set_property("host", args.host)
    agent.set_property("port", args.port)
    if args.rtp_port_range:
        agent.set_property("rtp-port-range", args.rtp_port_range)

    calls = []

    def on_state(call, state):
        try:
            name = state.value_nick
        except AttributeError:
            name = str(int(state))
        say("state", call.get_call_id(), name)
        if call.get_state() == Sip.CallState.ENDED:
            say("ended", call.get_call_id(), call.get_end_reason())

    def on_incoming(_agent, call):
        say("incoming", call.get_call_id(), call.get_from())
        calls.append(call)
        call.connect("state-changed", on_state)
        if args.mode == "ring":
            call.ring()
        elif args.mode == "answer":
            call.answer()
        elif args.mode.startswith("reject:"):
            call.reject(int(args.mode.split(":", 1)[1]))
        return True

    agent.connect("incoming-call", on_incoming)
    agent.start()
    say("listening", args.host, agent.get_bound_port())

    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    agent.stop()
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
