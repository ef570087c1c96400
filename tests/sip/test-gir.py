#!/usr/bin/python3
# gst-sip: the Sip-1.0 typelib as Python (PyGObject) sees it
# Copyright (C) 2026 The gst-sip authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Loads Sip-1.0 through GObject introspection, starts an agent on a free
port, reads its properties and stops it.  Exit 77 (skip) without PyGObject."""

import sys

try:
    import gi
except ImportError:
    print("PyGObject not available")
    sys.exit(77)

gi.require_version("Sip", "1.0")
from gi.repository import GLib, GObject, Sip  # noqa: E402


def main():
    agent = Sip.Agent.new()
    assert agent.props.port == 6060
    assert agent.props.host == "0.0.0.0"
    assert agent.props.rtp_port_range == "10000-15000"
    assert agent.props.user_agent == "gst-sip/0.1"
    assert agent.props.max_calls == 0
    assert agent.props.public_address is None
    assert agent.props.socket_fd == -1
    assert agent.props.relay_fd == -1
    assert agent.props.max_call_duration == 0
    agent.props.max_call_duration = 60
    assert agent.props.max_call_duration == 60
    agent.props.host = "127.0.0.1"
    agent.props.port = 0
    agent.start()
    port = agent.props.bound_port
    assert port > 0 and port == agent.get_bound_port(), port
    assert agent.get_active_calls() == 0
    try:
        agent.start()
        raise AssertionError("second start succeeded")
    except GLib.Error as e:
        assert e.domain == "sip-agent-error-quark", e.domain
        assert e.code == Sip.AgentError.STATE, e.code
    agent.stop()
    assert agent.props.bound_port == 0

    # enum and signals are introspectable
    assert Sip.CallState.ACTIVE != Sip.CallState.ENDED
    call = Sip.Call()  # a blank one: initializes the class
    assert call.props.state == Sip.CallState.INCOMING
    assert call.props.telephone_event_pt == -1
    assert call.get_end_reason() is None
    assert call.props.max_duration == 0
    call.set_max_duration(30)  # no agent: nothing to arm
    assert call.get_max_duration() == 30 and call.props.max_duration == 30
    assert "state-changed" in GObject.signal_list_names(Sip.Call)
    assert "media-changed" in GObject.signal_list_names(Sip.Call)
    assert "incoming-call" in GObject.signal_list_names(Sip.Agent)
    names = [p.name for p in Sip.Call.list_properties()]
    for name in ("call-id", "from", "to", "state", "end-reason",
                 "remote-rtp-address", "remote-rtp-port", "local-rtp-port",
                 "telephone-event-pt", "on-hold", "max-duration"):
        assert name in names, name
    print("ok")


main()
