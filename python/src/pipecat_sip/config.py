#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""SIP server settings, read from the environment and checked before anything starts.

==========================  ===============  ==================================================
Variable                    Default          Meaning
==========================  ===============  ==================================================
``SIP_SERVER_HOST``         ``0.0.0.0``      address the SIP and RTP sockets listen on
                                             (``::`` for IPv4 and IPv6)
``SIP_SERVER_PORT``         ``6060``         SIP UDP port (``0`` = any free port)
``SIP_RTP_PORT_RANGE``      ``10000-15000``  RTP/RTCP ports for calls (an even RTP port and
                                             the next one for RTCP per call)
``SIP_PUBLIC_ADDRESS``      (unset)          address written into SDP ``c=`` and Contact,
                                             for NAT and cloud hosts
``SIP_ALLOWED_SOURCES``     (unset)          comma-separated CIDR list of trusted peers
                                             (others get 403); unset = everyone
``SIP_MAX_CALLS``           ``0``            most concurrent calls (``0`` = no limit);
                                             others get 486 Busy Here
``SIP_INVITE_RATE_LIMIT``   ``10``           new INVITEs per second per source address
                                             (``0`` = no limit); more get 503 or are dropped
``SIP_SHUTDOWN_TIMEOUT``    ``10``           seconds SIGINT/SIGTERM lets active calls go on
                                             (new ones get 503) before the rest get a BYE
``SIP_MEDIA_TIMEOUT``       ``30``           hang up (BYE) a call whose caller sent no RTP for
                                             this many seconds (``0`` = never)
``SIP_MAX_DURATION``        ``0``            hang up (BYE) a call this many seconds after the
                                             answer (``0`` = no limit)
``SIP_WORKERS``             ``1``            processes that run the bots, behind one SIP port
                                             (one per core; see :mod:`pipecat_sip.workers`)
``SIP_ANSWER``              ``when-ready``   when a call is answered (200 OK): ``when-ready``
                                             once its bot's media pipeline runs (180 Ringing
                                             until then), ``immediately`` on the INVITE
``SIP_USER_AGENT``          ``gst-sip/0.1``  the ``User-Agent`` and ``Server`` header value
==========================  ===============  ==================================================
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ANSWER_IMMEDIATELY", "ANSWER_WHEN_READY", "SIPConfigError", "SIPServerConfig"]

_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")


class SIPConfigError(ValueError):
    """A SIP setting is malformed. The message names the environment variable."""

    def __init__(self, variable: str, value: str, reason: str):
        """Build the error.

        Args:
            variable: Name of the environment variable (e.g. ``SIP_SERVER_PORT``).
            value: The offending value.
            reason: What is wrong with it and what is expected.
        """
        self.variable = variable
        self.value = value
        self.reason = reason
        super().__init__(f"{variable}={value!r}: {reason}")


def _parse_port(name: str, value: str, *, allow_zero: bool) -> int:
    v = value.strip()
    if not v.isdigit():
        raise SIPConfigError(name, value, "expected a UDP port number (0-65535)")
    port = int(v)
    if port > 65535 or (port == 0 and not allow_zero):
        raise SIPConfigError(
            name, value, "expected a UDP port number (%s-65535)" % ("0" if allow_zero else "1")
        )
    return port


def _parse_range(name: str, value: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
    if not m:
        raise SIPConfigError(name, value, "expected LOW-HIGH, e.g. 10000-15000")
    lo, hi = int(m.group(1)), int(m.group(2))
    if not (1024 <= lo <= 65535 and 1024 <= hi <= 65535):
        raise SIPConfigError(name, value, "ports must be between 1024 and 65535")
    if hi <= lo:
        raise SIPConfigError(name, value, "HIGH must be greater than LOW (room for RTP+RTCP)")
    # An even RTP port and RTP+1 for RTCP must fit.
    first_even = lo + (lo % 2)
    if first_even + 1 > hi:
        raise SIPConfigError(name, value, "the range holds no even RTP port with RTP+1 for RTCP")
    return lo, hi


def _parse_address(name: str, value: str, *, allow_hostname: bool) -> str:
    v = value.strip()
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        pass
    if allow_hostname and _HOSTNAME_RE.match(v) and not re.fullmatch(r"[\d.]+", v):
        return v
    raise SIPConfigError(
        name,
        value,
        "expected an IPv4 or IPv6 address" + (" or a host name" if allow_hostname else ""),
    )


def _parse_cidrs(name: str, value: str) -> list[str]:
    out: list[str] = []
    for part in value.split(","):
        p = part.strip()
        if not p:
            continue
        try:
            out.append(str(ipaddress.ip_network(p, strict=False)))
        except ValueError:
            raise SIPConfigError(
                name, value, f"{p!r} is not a network in CIDR notation (e.g. 10.0.0.0/8, ::1/128)"
            ) from None
    return out


# sipsrc's media-timeout and the agent's max-call-duration are at most G_MAXUINT / 1000 s
_SECONDS_MAX = 0xFFFFFFFF // 1000


# more worker processes than this is a typo, not a machine
_WORKERS_MAX = 256

# SIP_ANSWER: once the bot's media runs (the default), or on the INVITE
ANSWER_WHEN_READY: Literal["when-ready"] = "when-ready"
ANSWER_IMMEDIATELY: Literal["immediately"] = "immediately"
ANSWER_MODES = (ANSWER_WHEN_READY, ANSWER_IMMEDIATELY)


def _parse_uint(name: str, value: str, maximum: int = 0xFFFFFFFF) -> int:
    v = value.strip()
    if not v.isdigit():
        raise SIPConfigError(name, value, "expected a whole number >= 0 (0 = no limit)")
    n = int(v)
    if n > maximum:
        raise SIPConfigError(name, value, f"expected a whole number up to {maximum} (0 = no limit)")
    return n


def _parse_seconds(name: str, value: str) -> float:
    v = value.strip()
    try:
        secs = float(v)
    except ValueError:
        secs = -1.0
    if not (secs >= 0 and secs != float("inf")):  # also refuses nan
        raise SIPConfigError(name, value, "expected a number of seconds >= 0, e.g. 10 or 2.5")
    return secs


@dataclass
class SIPServerConfig:
    """Settings of the SIP user-agent server that answers calls.

    Parameters:
        host: Listen address for SIP and RTP (``0.0.0.0``, ``::`` or one address).
        port: SIP UDP port; ``0`` binds any free port.
        rtp_port_range: ``(low, high)`` RTP/RTCP port range.
        public_address: Address advertised in SDP and Contact (NAT, cloud); ``None`` =
            the local address that routes to the caller.
        allowed_sources: Trusted source networks (CIDR); empty = everyone.
        max_calls: Concurrent call limit; ``0`` = unlimited.
        user_agent: ``User-Agent``/``Server`` header value; ``None`` = the library default.
        invite_rate_limit: New INVITEs per second per source address; ``0`` = unlimited.
        shutdown_timeout: Seconds a graceful shutdown (SIGINT/SIGTERM) waits for active
            calls to end before the rest get a BYE.
        media_timeout: Seconds without RTP from the caller after which a call is hung
            up (``sipsrc`` ``media-timeout``); ``0`` = never.
        max_duration: Seconds after the answer at which a call is hung up (the agent's
            ``max-call-duration``, whether the bot's pipeline took the call or not; a
            bot may change its call's with ``call.max_duration``); ``0`` = no limit.
        workers: Processes that answer calls and run the bots (``1``: this one); more
            use more cores, behind a dispatcher on the one SIP port.
        answer: ``"when-ready"``: the call's transport answers once its media pipeline
            runs, so everything the caller says reaches the bot and a bot with
            ``SIPParams(auto_answer=False)`` may still reject the call.
            ``"immediately"``: the server answers the INVITE at once (200 OK in about
            the C library's time); the bot starts after, and caller audio that arrives
            before its pipeline runs is dropped. ``max_duration`` still counts from
            the answer; ``media_timeout`` from when the bot's pipeline takes the call.
    """

    host: str = "0.0.0.0"
    port: int = 6060
    rtp_port_range: tuple[int, int] = (10000, 15000)
    public_address: str | None = None
    allowed_sources: list[str] = field(default_factory=list)
    max_calls: int = 0
    user_agent: str | None = None
    invite_rate_limit: int = 10
    shutdown_timeout: float = 10.0
    media_timeout: int = 30
    max_duration: int = 0
    workers: int = 1
    answer: Literal["when-ready", "immediately"] = ANSWER_WHEN_READY

    @property
    def rtp_port_range_str(self) -> str:
        """The RTP range as ``"LOW-HIGH"``."""
        return f"{self.rtp_port_range[0]}-{self.rtp_port_range[1]}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SIPServerConfig:
        """Read the ``SIP_*`` variables (see the module documentation).

        Args:
            environ: Mapping to read instead of ``os.environ``.

        Returns:
            The checked settings.

        Raises:
            SIPConfigError: when a variable is malformed; the message names it.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            v = env.get(name)
            return v if v is not None and v.strip() != "" else None

        cfg = cls()
        if (v := get("SIP_SERVER_HOST")) is not None:
            cfg.host = _parse_address("SIP_SERVER_HOST", v, allow_hostname=False)
        if (v := get("SIP_SERVER_PORT")) is not None:
            cfg.port = _parse_port("SIP_SERVER_PORT", v, allow_zero=True)
        if (v := get("SIP_RTP_PORT_RANGE")) is not None:
            cfg.rtp_port_range = _parse_range("SIP_RTP_PORT_RANGE", v)
        if (v := get("SIP_PUBLIC_ADDRESS")) is not None:
            cfg.public_address = _parse_address("SIP_PUBLIC_ADDRESS", v, allow_hostname=True)
        if (v := get("SIP_ALLOWED_SOURCES")) is not None:
            cfg.allowed_sources = _parse_cidrs("SIP_ALLOWED_SOURCES", v)
        if (v := get("SIP_MAX_CALLS")) is not None:
            cfg.max_calls = _parse_uint("SIP_MAX_CALLS", v)
        if (v := get("SIP_INVITE_RATE_LIMIT")) is not None:
            cfg.invite_rate_limit = _parse_uint("SIP_INVITE_RATE_LIMIT", v)
        if (v := get("SIP_SHUTDOWN_TIMEOUT")) is not None:
            cfg.shutdown_timeout = _parse_seconds("SIP_SHUTDOWN_TIMEOUT", v)
        if (v := get("SIP_MEDIA_TIMEOUT")) is not None:
            cfg.media_timeout = _parse_uint("SIP_MEDIA_TIMEOUT", v, _SECONDS_MAX)
        if (v := get("SIP_MAX_DURATION")) is not None:
            cfg.max_duration = _parse_uint("SIP_MAX_DURATION", v, _SECONDS_MAX)
        if (v := get("SIP_WORKERS")) is not None:
            w = v.strip()
            if not w.isdigit() or not 1 <= int(w) <= _WORKERS_MAX:
                raise SIPConfigError(
                    "SIP_WORKERS", v, f"expected a number of processes from 1 to {_WORKERS_MAX}"
                )
            cfg.workers = int(w)
        if (v := get("SIP_ANSWER")) is not None:
            mode = v.strip().lower()
            if mode not in ANSWER_MODES:
                raise SIPConfigError("SIP_ANSWER", v, "expected " + " or ".join(ANSWER_MODES))
            cfg.answer = mode  # type: ignore[assignment]  # checked just above
        if (v := get("SIP_USER_AGENT")) is not None:
            cfg.user_agent = v.strip()
        if cfg.workers > 1:
            from pipecat_sip.workers import worker_share

            worker_share(cfg, 0, cfg.workers)  # each worker needs RTP ports of its own
        return cfg
