#
# Copyright (c) 2026, The gst-sip authors
#
# SPDX-License-Identifier: BSD-2-Clause
#

"""A SIP call as a bot sees it: who called whom, from where, with which headers.

:class:`SIPCall` wraps the C library's ``Sip.Call`` (a GObject from the ``Sip`` 1.0
typelib). It is what the transport passes to ``on_client_connected`` and
``on_client_disconnected``. The ``Sip.Call`` emits its signals in the SIP agent's
own thread; nothing here blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from loguru import logger

__all__ = ["NameAddr", "SIPCall", "parse_name_addr"]


@dataclass(frozen=True)
class NameAddr:
    """A parsed ``From``/``To`` header value (RFC 3261 name-addr or addr-spec).

    Parameters:
        display_name: The quoted or token display name, or ``None``.
        uri: The URI, e.g. ``sip:+15551234567@trunk.example.com``.
        user: The user part of the URI (a dialled number on trunks), or ``None``.
        host: The host part of the URI (with port, if any), or ``None``.
        tag: The ``tag`` parameter, or ``None``.
    """

    display_name: str | None
    uri: str
    user: str | None
    host: str | None
    tag: str | None


def parse_name_addr(value: str) -> NameAddr:
    """Parse a ``From``/``To`` header value.

    Args:
        value: e.g. ``"Alice" <sip:alice@example.com>;tag=1928301774``.

    Returns:
        The parts; unknown shapes give the whole value as ``uri``.
    """
    v = (value or "").strip()
    display: str | None = None
    params = ""
    m = re.match(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>(.*)$', v)
    if m:
        display = m.group(1) if m.group(1) is not None else (m.group(2) or "").strip() or None
        if display is not None:
            display = display.replace('\\"', '"').replace("\\\\", "\\")
        uri = m.group(3).strip()
        params = m.group(4)
    else:
        uri, _, params = v.partition(";")
        params = ";" + params if params else ""
        uri = uri.strip()
    tag = None
    tm = re.search(r";\s*tag\s*=\s*([^;\s]+)", params, re.IGNORECASE)
    if tm:
        tag = tm.group(1)
    user = host = None
    um = re.match(r"^(?:sips?|tel):(?:([^@;]*)@)?([^;?]*)", uri, re.IGNORECASE)
    if um:
        user = um.group(1) if um.group(1) else None
        host = um.group(2) or None
        if uri.lower().startswith("tel:"):
            user, host = um.group(2) or None, None
    return NameAddr(display_name=display, uri=uri, user=user, host=host, tag=tag)


def _to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


class SIPCall:
    """One SIP call (dialog) answered by the SIP agent.

    The identity is read once from the ``Sip.Call`` when this object is made; ``state``,
    ``end_reason`` and ``on_hold`` are read live.

    Attributes:
        sip_call: The underlying ``Sip.Call`` GObject (for ``sipsrc call=...``).
        call_id: The ``Call-ID`` header.
        from_header: The full ``From`` header value (``call.from_`` for short).
        to_header: The full ``To`` header value (``call.to`` for short).
        caller: The parsed ``From`` header (display name, URI, user = caller number).
        callee: The parsed ``To`` header (user = dialled number on most trunks).
        remote_address: The caller's media address, ``"ip:port"`` (from its SDP).
        headers: The INVITE's headers, lowercase names to (first) values.
        media_timeout: Seconds without caller RTP before the media pipeline hangs up
            (``sipsrc`` ``media-timeout``), set by the server; ``None`` = element default.
        media_started: Whether a media pipeline (the bot's transport) has taken the call.
    """

    def __init__(self, sip_call: Any):
        """Wrap a ``Sip.Call``.

        Args:
            sip_call: A ``gi.repository.Sip.Call``.
        """
        self.sip_call = sip_call
        self.call_id: str = _to_str(self._get("call_id", "call-id"))
        self.from_header: str = _to_str(self._get("from", "from"))
        self.to_header: str = _to_str(self._get("to", "to"))
        self.caller: NameAddr = parse_name_addr(self.from_header)
        self.callee: NameAddr = parse_name_addr(self.to_header)
        self.headers: dict[str, str] = self._read_headers()
        self._remote_address: str = ""
        self._media_end_reason: str | None = None
        self._final: dict[str, Any] = {}
        self.media_timeout: int | None = None
        self.media_started = False
        # answer() was called: the 200 OK is queued in the agent's thread ahead of any
        # later action, though the state may not say "answered" yet
        self._answer_requested = False

    # -- identity -------------------------------------------------------

    def _get(self, getter: str, prop: str) -> Any:
        if self.sip_call is None:  # released: the values it had when it ended
            return self._final.get(prop)
        fn = getattr(self.sip_call, f"get_{getter}", None)
        if fn is not None:
            try:
                return fn()
            except TypeError:
                pass
        try:
            return self.sip_call.get_property(prop)
        except (TypeError, AttributeError):
            return None

    def _read_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        fn = getattr(self.sip_call, "get_headers", None)
        if fn is not None:
            try:
                table = fn()
                if table:
                    for k, v in dict(table).items():
                        headers[_to_str(k).lower()] = _to_str(v)
            except (TypeError, ValueError, RuntimeError):
                headers = {}
        if not headers:
            for name in ("from", "to", "call-id", "contact", "user-agent", "p-asserted-identity"):
                v = self.get_header(name)
                if v is not None:
                    headers[name] = v
        return headers

    @property
    def from_(self) -> str:
        """The full ``From`` header value (``from`` is a Python keyword)."""
        return self.from_header

    @property
    def to(self) -> str:
        """The full ``To`` header value."""
        return self.to_header

    @property
    def from_user(self) -> str | None:
        """The caller's user part (usually the calling number)."""
        return self.caller.user

    @property
    def to_user(self) -> str | None:
        """The called user part (usually the dialled number)."""
        return self.callee.user

    @property
    def remote_address(self) -> str:
        """The caller's RTP address as ``"ip:port"`` (``""`` before SDP was seen)."""
        addr = _to_str(self._get("remote_rtp_address", "remote-rtp-address"))
        port = self._get("remote_rtp_port", "remote-rtp-port") or 0
        if addr:
            host = f"[{addr}]" if ":" in addr else addr
            self._remote_address = f"{host}:{int(port)}"
        return self._remote_address

    def get_header(self, name: str) -> str | None:
        """Return the first value of an INVITE header (case-insensitive, compact forms ok).

        Args:
            name: Header name, e.g. ``"P-Asserted-Identity"`` or ``"X-Customer-Id"``.

        Returns:
            The value, or ``None`` if the INVITE had no such header.
        """
        if self.sip_call is None:  # released: the headers read at the start
            return self.headers.get(name.lower())
        fn = getattr(self.sip_call, "get_header", None)
        if fn is None:
            return None
        try:
            v = fn(name)
        except (TypeError, ValueError):
            return None
        return None if v is None else _to_str(v)

    # -- live state ----------------------------------------------------------

    @property
    def state(self) -> str:
        """The call state as a lowercase name (``incoming``, ``ringing``, ``answered``,
        ``active``, ``ended``)."""
        st = self._get("state", "state")
        nick = getattr(st, "value_nick", None)
        if nick:
            return str(nick)
        name = getattr(st, "value_name", None) or str(st)
        return name.rsplit("_", 1)[-1].lower()

    @property
    def ended(self) -> bool:
        """Whether the call is over."""
        return self.state == "ended"

    @property
    def end_reason(self) -> str | None:
        """Why the call ended (``remote-bye``, ``local-bye``, ``cancelled``, ...) or ``None``."""
        v = self._get("end_reason", "end-reason")
        if v is None:
            return None
        v = _to_str(v)
        # the media pipeline's reason for its own BYE (media-timeout)
        return self._media_end_reason if v == "local-bye" and self._media_end_reason else v

    def note_end_reason(self, reason: str) -> None:
        """Record why our side ended the call, e.g. ``media-timeout`` from ``sipsrc``;
        :attr:`end_reason` reports it instead of ``local-bye``. The first reason
        noted stays.

        Args:
            reason: The ``reason`` of ``sipsrc``'s ``sip-call-ended`` message.
        """
        if self._media_end_reason is None:
            self._media_end_reason = reason

    @property
    def answered_at(self) -> float | None:
        """When the call was answered (its 200 OK sent), in ``time.monotonic()``
        seconds (on Linux both it and GLib read CLOCK_MONOTONIC); ``None`` before the
        answer or for a call never answered."""
        if self.sip_call is None:  # released: the time it had when it ended
            return self._final.get("answered-at")
        fn = getattr(self.sip_call, "get_answered_time", None)
        t = fn() if fn is not None else 0
        return t / 1e6 if t else None

    @property
    def max_duration(self) -> int:
        """Seconds after the answer at which the call is hung up (BYE, end reason
        ``max-duration``), ``0`` for no limit. Starts at ``SIP_MAX_DURATION``; a bot may
        change it for its call at any time. The agent enforces it on its own timer,
        whether a media pipeline took the call or not."""
        return int(self._get("max_duration", "max-duration") or 0)

    @max_duration.setter
    def max_duration(self, seconds: int) -> None:
        if self.sip_call is not None:
            self.sip_call.set_max_duration(max(0, int(seconds)))

    @property
    def on_hold(self) -> bool:
        """Whether the caller has put the call on hold."""
        return bool(self._get("on_hold", "on-hold"))

    def release(self) -> None:
        """Let go of the library's ``Sip.Call`` once the call has ended.

        Its RTP port pair goes back to the agent's pool when the ``Sip.Call`` is
        finalized; objects that outlive the call (a transport, a bot's records) must
        not hold it there. Identity, state and end reason stay readable; actions do
        nothing. No-op while the call has not ended.
        """
        if self.sip_call is None or not self.ended:
            return
        self._final = {p: self._get(p.replace("-", "_"), p) for p in (
            "state", "end-reason", "on-hold", "remote-rtp-address", "remote-rtp-port",
            "max-duration")}
        self._final["answered-at"] = self.answered_at
        self.sip_call = None

    # -- actions (thread-safe, carried out in the agent's thread) --------------

    def ring(self) -> None:
        """Send 180 Ringing."""
        if self.sip_call is not None:
            self.sip_call.ring()

    def answer(self) -> None:
        """Send 200 OK with the SDP answer."""
        if self.sip_call is not None:
            self._answer_requested = True
            self.sip_call.answer()

    def reject(self, status_code: int = 486) -> None:
        """Reject an unanswered call with a final response (e.g. 486, 603).

        A call answered already (``SIP_ANSWER=immediately``) cannot be rejected any
        more: it is hung up (BYE) instead, with a warning.

        Args:
            status_code: SIP status code.
        """
        if self.sip_call is None:
            return
        if self._answer_requested or self.state in ("answered", "active"):
            logger.warning(
                f"call {self.call_id} was answered already (SIP_ANSWER=immediately?): "
                f"hanging up instead of rejecting it with {status_code}"
            )
            self.sip_call.hangup()
            return
        self.sip_call.reject(status_code)

    def hangup(self) -> None:
        """Hang up now: BYE for an answered call, a final error response otherwise."""
        if self.sip_call is not None:
            self.sip_call.hangup()

    def to_dict(self) -> dict[str, Any]:
        """The call's details as a plain dict (for logs, or a bot's ``runner_args.body``)."""
        return {
            "call_id": self.call_id,
            "from": self.from_header,
            "to": self.to_header,
            "from_user": self.from_user,
            "to_user": self.to_user,
            "remote_address": self.remote_address,
            "headers": dict(self.headers),
        }

    def __repr__(self) -> str:
        """Short description for logs."""
        return f"<SIPCall {self.call_id} from={self.caller.uri} to={self.callee.uri}>"
