"""SIP settings from the environment; the runner's hand-over to Pipecat; create_transport."""

from __future__ import annotations

import argparse
import sys

import pytest

from pipecat_sip.call import parse_name_addr
from pipecat_sip.config import SIPConfigError, SIPServerConfig


def test_defaults():
    cfg = SIPServerConfig.from_env({})
    assert cfg.host == "0.0.0.0"
    assert cfg.port == 6060
    assert cfg.rtp_port_range == (10000, 15000)
    assert cfg.public_address is None
    assert cfg.allowed_sources == []
    assert cfg.max_calls == 0
    assert cfg.invite_rate_limit == 10
    assert cfg.shutdown_timeout == 10.0
    assert cfg.answer == "when-ready"


def test_all_variables():
    cfg = SIPServerConfig.from_env(
        {
            "SIP_SERVER_HOST": "::",
            "SIP_SERVER_PORT": "5070",
            "SIP_RTP_PORT_RANGE": "20000-20100",
            "SIP_PUBLIC_ADDRESS": "203.0.113.7",
            "SIP_ALLOWED_SOURCES": "10.0.0.0/8, 192.168.1.5/32,2001:db8::/32",
            "SIP_MAX_CALLS": "12",
            "SIP_INVITE_RATE_LIMIT": "0",
            "SIP_SHUTDOWN_TIMEOUT": "2.5",
            "SIP_ANSWER": " Immediately ",
        }
    )
    assert cfg.host == "::"
    assert cfg.port == 5070
    assert cfg.rtp_port_range == (20000, 20100)
    assert cfg.rtp_port_range_str == "20000-20100"
    assert cfg.public_address == "203.0.113.7"
    assert cfg.allowed_sources == ["10.0.0.0/8", "192.168.1.5/32", "2001:db8::/32"]
    assert cfg.max_calls == 12
    assert cfg.invite_rate_limit == 0
    assert cfg.shutdown_timeout == 2.5
    assert cfg.answer == "immediately"


def test_public_address_may_be_a_host_name():
    cfg = SIPServerConfig.from_env({"SIP_PUBLIC_ADDRESS": "bot.example.com"})
    assert cfg.public_address == "bot.example.com"


@pytest.mark.parametrize(
    "variable,value",
    [
        ("SIP_SERVER_HOST", "not an address"),
        ("SIP_SERVER_HOST", "300.1.1.1"),
        ("SIP_SERVER_PORT", "abc"),
        ("SIP_SERVER_PORT", "70000"),
        ("SIP_SERVER_PORT", "-1"),
        ("SIP_RTP_PORT_RANGE", "abc"),
        ("SIP_RTP_PORT_RANGE", "15000-10000"),
        ("SIP_RTP_PORT_RANGE", "10000"),
        ("SIP_RTP_PORT_RANGE", "10001-10001"),
        ("SIP_RTP_PORT_RANGE", "100-200"),
        ("SIP_RTP_PORT_RANGE", "60000-70000"),
        ("SIP_PUBLIC_ADDRESS", "1.2.3"),
        ("SIP_ALLOWED_SOURCES", "10.0.0.0/33"),
        ("SIP_ALLOWED_SOURCES", "10.0.0.0/8,nonsense"),
        ("SIP_MAX_CALLS", "-3"),
        ("SIP_MAX_CALLS", "many"),
        ("SIP_INVITE_RATE_LIMIT", "fast"),
        ("SIP_INVITE_RATE_LIMIT", "-1"),
        ("SIP_INVITE_RATE_LIMIT", "2.5"),
        ("SIP_INVITE_RATE_LIMIT", "99999999999"),
        ("SIP_SHUTDOWN_TIMEOUT", "soon"),
        ("SIP_SHUTDOWN_TIMEOUT", "-1"),
        ("SIP_SHUTDOWN_TIMEOUT", "nan"),
        ("SIP_SHUTDOWN_TIMEOUT", "inf"),
        ("SIP_ANSWER", "later"),
    ],
)
def test_malformed_value_names_the_variable(variable, value):
    with pytest.raises(SIPConfigError) as ei:
        SIPServerConfig.from_env({variable: value})
    assert ei.value.variable == variable
    assert variable in str(ei.value)
    assert value in str(ei.value)


def test_parse_name_addr():
    na = parse_name_addr('"Alice Smith" <sip:+15551234567@trunk.example.com:5060;user=phone>;tag=abc123')
    assert na.display_name == "Alice Smith"
    assert na.uri == "sip:+15551234567@trunk.example.com:5060;user=phone"
    assert na.user == "+15551234567"
    assert na.host == "trunk.example.com:5060"
    assert na.tag == "abc123"
    na = parse_name_addr("<sip:bot@127.0.0.1:6060>")
    assert na.display_name is None and na.user == "bot" and na.tag is None
    na = parse_name_addr("sip:1000@pbx.local;tag=x")
    assert na.uri == "sip:1000@pbx.local" and na.user == "1000" and na.tag == "x"
    na = parse_name_addr("Bob <tel:+4930123>")
    assert na.display_name == "Bob" and na.user == "+4930123"


def test_main_hands_other_transports_to_pipecat(monkeypatch):
    """-t webrtc (or no -t) runs pipecat.runner.run.main() with the same command line."""
    import pipecat.runner.run as pipecat_run

    from pipecat_sip.runner import main

    seen = []
    monkeypatch.setattr(pipecat_run, "main", lambda *a, **k: seen.append(list(sys.argv[1:])))
    monkeypatch.setattr(sys, "argv", ["bot.py", "-t", "webrtc", "--port", "7861"])
    main()
    assert seen == [["-t", "webrtc", "--port", "7861"]]
    monkeypatch.setattr(sys, "argv", ["bot.py"])
    main()
    assert seen[-1] == []


def test_main_reports_bad_environment(monkeypatch, capsys):
    from pipecat_sip.runner import main

    async def bot(runner_args):  # pragma: no cover - never runs
        pass

    monkeypatch.setenv("SIP_ALLOWED_SOURCES", "10.0.0.0/33")
    with pytest.raises(SystemExit) as ei:
        main(bot, argv=["-t", "sip"])
    assert ei.value.code == 2
    assert "SIP_ALLOWED_SOURCES" in capsys.readouterr().err


async def test_create_transport_needs_a_sip_entry():
    from pipecat_sip.runner import SIPRunnerArguments, create_transport

    class FakeCall:  # create_transport fails before it touches the call
        call_id = "x"

    args = SIPRunnerArguments(call=FakeCall())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='"sip"'):
        await create_transport(args, {"webrtc": lambda: None})


async def test_create_transport_defers_to_pipecat(monkeypatch):
    import pipecat.runner.utils as pipecat_utils

    from pipecat_sip.runner import create_transport

    seen = []

    async def fake(runner_args, transport_params):
        seen.append((runner_args, sorted(transport_params)))
        return "pipecat-transport"

    monkeypatch.setattr(pipecat_utils, "create_transport", fake)
    marker = argparse.Namespace()
    out = await create_transport(marker, {"webrtc": lambda: None, "sip": lambda: None})
    assert out == "pipecat-transport"
    assert seen == [(marker, ["sip", "webrtc"])]
