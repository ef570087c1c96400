#!/usr/bin/python3
"""An echo server the way applications use the elements: one Sip.Agent (libsipua)
answers SIP, and each call is handed to its own pipeline

    sipsrc call=<call> media-timeout=N max-duration=M ! queue ! sipsink

which plays the caller's voice back. When the call ends the pipeline goes to NULL and
is dropped, so the call's RTP port pair goes back to the agent's pool.

    GI_TYPELIB_PATH=build/sip LD_LIBRARY_PATH=build/sip GST_PLUGIN_PATH=build/gst \\
      /usr/bin/python3 tests/interop/echo_agent.py --port 6060 --rtp-port-range 20000-20001 \\
      --media-timeout 2

Prints one line per event, flushed: "listening HOST PORT", "incoming CALL-ID",
"ended CALL-ID REASON" (from the sip-call-ended bus message), "eos CALL-ID",
"released CALL-ID" (pipeline in NULL and dropped), "error CALL-ID TEXT".
Ends on SIGINT/SIGTERM.
"""

import argparse
import signal
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gst", "1.0")
gi.require_version("Sip", "1.0")
from gi.repository import GLib, Gst, Sip  # noqa: E402


def say(*words):
    print(*words, flush=True)


class EchoAgent:
    """A Sip.Agent handing every call to its own echo pipeline."""

    def __init__(self, args):
        self.args = args
        self.pipelines = {}   # call-id -> pipeline
        self.agent = Sip.Agent()
        self.agent.set_property("host", args.host)
        self.agent.set_property("port", args.port)
        self.agent.set_property("rtp-port-range", args.rtp_port_range)
        self.agent.connect("incoming-call", self.on_incoming)

    def on_incoming(self, _agent, call):
        # agent thread: build the pipeline in the main loop's thread
        cid = call.get_call_id()
        say("incoming", cid)
        GLib.idle_add(self.start_pipeline, call)
        return True

    def start_pipeline(self, call):
        cid = call.get_call_id()
        p = Gst.Pipeline.new(None)
        src = Gst.ElementFactory.make("sipsrc")
        src.set_property("call", call)
        src.set_property("media-timeout", self.args.media_timeout)
        src.set_property("max-duration", self.args.max_duration)
        q = Gst.ElementFactory.make("queue")
        sink = Gst.ElementFactory.make("sipsink")
        for e in (src, q, sink):
            p.add(e)
        src.link(q)
        q.link(sink)
        bus = p.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message, cid)
        self.pipelines[cid] = p
        if p.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            say("error", cid, "cannot start the pipeline")
            self.release(cid)
        return GLib.SOURCE_REMOVE

    def on_message(self, _bus, msg, cid):
        t = msg.type
        if t == Gst.MessageType.ELEMENT and msg.get_structure() is not None:
            s = msg.get_structure()
            if s.get_name() == "sip-call-ended":
                say("ended", cid, s.get_string("reason"))
            elif s.get_name() == "sip-call-answered":
                say("answered", cid)
        elif t == Gst.MessageType.EOS:
            say("eos", cid)
            GLib.idle_add(self.release, cid)
        elif t == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            say("error", cid, err.message)
            GLib.idle_add(self.release, cid)

    def release(self, cid):
        p = self.pipelines.pop(cid, None)
        if p is not None:
            p.get_bus().remove_signal_watch()
            p.set_state(Gst.State.NULL)
            say("released", cid)
        return GLib.SOURCE_REMOVE


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6060)
    ap.add_argument("--rtp-port-range", default="10000-15000")
    ap.add_argument("--media-timeout", type=int, default=30)
    ap.add_argument("--max-duration", type=int, default=0)
    args = ap.parse_args()

    Gst.init(None)
    server = EchoAgent(args)
    server.agent.start()
    say("listening", args.host, server.agent.get_bound_port())

    loop = GLib.MainLoop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    for cid in list(server.pipelines):
        server.release(cid)
    server.agent.stop()
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
