#!/usr/bin/python3
"""A small SIP caller (UAC) over raw UDP for fault tests, with an RTP sender that
can jitter and reorder its packets and a receiver that records what comes back.

sipp can neither jitter nor reorder RTP nor record it; baresip cannot vanish. This
caller does exactly what the fault tests need and counts everything it does:

* INVITE with RFC 3261 Timer A retransmission (T1, 2*T1, ... until a response,
  Timer B = 64*T1), ACK for the 200 OK and for every retransmission of it, BYE with
  Timer E retransmission; a BYE from the server is answered with 200 OK.
* RTP (PCMU, 20 ms packets) from a mu-law buffer, each packet sent late by a random
  delay of 0..2*jitter ms (so packets overtake each other) and, with a given
  probability, swapped with the next one.
* What comes back (PCMU) is recorded and rebuilt by RTP timestamp (lost packets
  become silence) into an 8 kHz WAV.
* "Vanishing": after a while stop sending RTP and stop answering SIP altogether
  (no BYE, no 200 to the server's BYE), but keep counting what arrives.

Command line (one call; writes a JSON summary; also used inside network namespaces):

    /usr/bin/python3 tests/interop/sipcaller.py --server 10.0.0.2:5060 --local-ip 10.0.0.1 \\
        --audio speech.wav --record heard.wav --summary call.json \\
        [--jitter-ms 30 --reorder 0.03] [--vanish-after 1.5 --linger 8]

Needs numpy (Debian: python3-numpy) and audio.py from this directory.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import queue
import random
import re
import socket
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio import read_audio, ulaw_decode  # noqa: E402

T1 = 0.5  # RFC 3261 T1, seconds
T2 = 4.0
PCMU = 0
FRAME = 160  # bytes of PCMU per 20 ms packet
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type"}


# ---------------------------------------------------------------- G.711


def ulaw_encode(x: np.ndarray) -> bytes:
    """Encode float samples in [-1, 1] to G.711 mu-law bytes (ITU-T G.711)."""
    s = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int32)
    sign = np.where(s < 0, 0x80, 0x00)
    mag = np.minimum(np.abs(s), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def write_wav(path: Path, x: np.ndarray, rate: int = 8000) -> None:
    """Write float samples as a 16-bit mono WAV."""
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


# ---------------------------------------------------------------- SIP messages


@dataclass
class SipMessage:
    """A parsed SIP message: start line, headers (lower-case names, in order), body."""

    first: str
    headers: list[tuple[str, str]]
    body: str

    @property
    def is_response(self) -> bool:
        return self.first.startswith("SIP/2.0 ")

    @property
    def code(self) -> int:
        return int(self.first.split()[1]) if self.is_response else 0

    @property
    def method(self) -> str:
        """The request method, or the CSeq method of a response."""
        if not self.is_response:
            return self.first.split()[0]
        return self.get("cseq").split()[-1].upper()

    def get(self, name: str) -> str:
        return next((v for k, v in self.headers if k == name), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def parse_sip(data: bytes) -> SipMessage | None:
    """Parse one UDP datagram; None if it is not a SIP message."""
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    if not lines or not (lines[0].startswith("SIP/2.0 ") or " SIP/2.0" in lines[0]):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded line
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        n = name.strip().lower()
        headers.append((COMPACT.get(n, n), value.strip()))
    return SipMessage(lines[0], headers, body)


def _tag(value: str) -> str | None:
    m = re.search(r";\s*tag=([^;\s>]+)", value)
    return m.group(1) if m else None


def _uri_in(value: str) -> str:
    m = re.search(r"<([^>]+)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def _branch() -> str:
    return "z9hG4bK" + os.urandom(8).hex()


def parse_sdp_media(body: str) -> tuple[str, int] | None:
    """(address, port) of the first audio m= line of an SDP body."""
    addr = None
    port = None
    for line in body.splitlines():
        if line.startswith("c=IN IP4 ") or line.startswith("c=IN IP6 "):
            addr = addr or line.split()[-1]
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    return (addr, port) if addr and port else None


# ---------------------------------------------------------------- RTP


@dataclass
class RtpStats:
    """What the RTP sender did."""

    sent: int = 0
    reordered: int = 0          # packets sent after a higher sequence number
    max_late_ms: float = 0.0    # largest extra send delay


class RtpSender(threading.Thread):
    """Sends a mu-law buffer as PCMU RTP in 20 ms packets, in real time, each packet
    delayed by a random 0..2*jitter_ms and, with probability `reorder`, swapped with
    the next one. Stops at the end of the audio or when stop() is called."""

    def __init__(self, sock: socket.socket, dest: tuple[str, int], ulaw: bytes,
                 jitter_ms: float = 0.0, reorder: float = 0.0, seed: int | None = None):
        super().__init__(name="rtp-sender", daemon=True)
        self.sock = sock
        self.dest = dest
        self.ulaw = ulaw
        self.jitter = jitter_ms / 1000.0
        self.reorder = reorder
        self.rng = random.Random(seed)
        self.stats = RtpStats()
        self._stop_evt = threading.Event()
        self.ssrc = self.rng.getrandbits(32)
        self.seq0 = self.rng.getrandbits(16)
        self.ts0 = self.rng.getrandbits(32)

    def stop(self) -> None:
        self._stop_evt.set()

    def packet(self, i: int) -> bytes:
        payload = self.ulaw[i * FRAME:(i + 1) * FRAME]
        payload += b"\xff" * (FRAME - len(payload))
        marker = 0x80 if i == 0 else 0
        header = bytes([0x80, marker | PCMU]) + ((self.seq0 + i) & 0xFFFF).to_bytes(2, "big") \
            + ((self.ts0 + i * FRAME) & 0xFFFFFFFF).to_bytes(4, "big") + self.ssrc.to_bytes(4, "big")
        return header + payload

    def run(self) -> None:
        n = (len(self.ulaw) + FRAME - 1) // FRAME
        # departure time of each packet: nominal + random lateness
        times = [0.02 * i + self.rng.uniform(0.0, 2.0 * self.jitter) for i in range(n)]
        for i in range(n - 1):
            if self.rng.random() < self.reorder:
                times[i], times[i + 1] = times[i + 1], times[i]
        self.stats.max_late_ms = max((t - 0.02 * i) * 1000 for i, t in enumerate(times)) if n else 0
        heap = [(t, i) for i, t in enumerate(times)]
        heapq.heapify(heap)
        start = time.monotonic()
        highest = -1
        while heap and not self._stop_evt.is_set():
            t, i = heapq.heappop(heap)
            delay = start + t - time.monotonic()
            if delay > 0 and self._stop_evt.wait(delay):
                break
            try:
                self.sock.sendto(self.packet(i), self.dest)
            except OSError:
                pass
            self.stats.sent += 1
            if i < highest:
                self.stats.reordered += 1
            highest = max(highest, i)


class RtpRecorder:
    """Collects the PCMU packets that arrive and rebuilds the audio by timestamp."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, int, int, bytes]] = []   # (arrival, seq, ts, payload)
        self.other_pt = 0
        self.lock = threading.Lock()

    def add(self, data: bytes) -> None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        pt = data[1] & 0x7F
        if pt != PCMU:
            self.other_pt += 1
            return
        cc = data[0] & 0x0F
        off = 12 + 4 * cc
        if data[0] & 0x10 and len(data) >= off + 4:   # header extension
            off += 4 + 4 * int.from_bytes(data[off + 2:off + 4], "big")
        payload = data[off:]
        if data[0] & 0x20 and payload:   # padding
            payload = payload[:-payload[-1]]
        seq = int.from_bytes(data[2:4], "big")
        ts = int.from_bytes(data[4:8], "big")
        with self.lock:
            self.packets.append((time.monotonic(), seq, ts, payload))

    @property
    def count(self) -> int:
        return len(self.packets)

    def audio(self) -> np.ndarray:
        """The received audio as float samples: each payload placed at its RTP
        timestamp (relative to the first packet's), gaps left silent."""
        with self.lock:
            pkts = list(self.packets)
        if not pkts:
            return np.zeros(0)
        base = pkts[0][2]
        placed = []
        for _, _, ts, payload in pkts:
            off = (ts - base + 2**31) % 2**32 - 2**31   # signed 32-bit distance
            placed.append((off, payload))
        lo = min(o for o, _ in placed)
        hi = max(o + len(p) for o, p in placed)
        if hi - lo > 8000 * 600:
            raise ValueError("RTP timestamps span more than 10 minutes")
        buf = bytearray(b"\xff" * (hi - lo))
        for off, payload in placed:
            buf[off - lo:off - lo + len(payload)] = payload
        return ulaw_decode(bytes(buf))


# ---------------------------------------------------------------- the caller


@dataclass
class CallSummary:
    """Everything the caller saw and did, for the test to assert on."""

    answered: bool = False
    final_code: int = 0
    setup_s: float = 0.0
    sent: dict[str, int] = field(default_factory=dict)        # INVITE/ACK/BYE/200 sends
    retransmitted: dict[str, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)    # "200 INVITE", "BYE", ...
    acks_for_retransmitted_200: int = 0
    bye_sent: bool = False
    bye_answered: int = 0
    byes_received: int = 0
    first_bye_received_s: float | None = None   # after the answer
    rtp_sent: int = 0
    rtp_reordered: int = 0
    rtp_max_late_ms: float = 0.0
    rtp_received: int = 0
    rtp_received_other_pt: int = 0
    remote_media: str = ""
    vanished_at_s: float | None = None
    error: str = ""


class SipCaller:
    """One outgoing call from `local_ip` to the SIP server at `server` (ip, port)."""

    def __init__(self, server: tuple[str, int], local_ip: str, rtp_port: int = 0,
                 sip_port: int = 0, user: str = "faults", service: str = "echo"):
        self.server = server
        self.local_ip = local_ip
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((local_ip, sip_port))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((local_ip, rtp_port))
        self.sip_port = self.sip.getsockname()[1]
        self.rtp_port = self.rtp.getsockname()[1]
        self.call_id = os.urandom(10).hex() + "@" + local_ip
        self.from_tag = os.urandom(6).hex()
        self.to_tag: str | None = None
        self.ruri = f"sip:{service}@{server[0]}:{server[1]}"
        self.remote_target = self.ruri
        self.user = user
        self.summary = CallSummary()
        self.recorder = RtpRecorder()
        self.responses: queue.Queue[SipMessage] = queue.Queue()
        self.answered_at: float | None = None
        self.vanished = False
        self.skip_acks = 0   # ACKs not to send (lost on the way), for fault tests
        self.closing = False
        self._ack: bytes | None = None
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._sip_loop, name="sip-rx", daemon=True),
                         threading.Thread(target=self._rtp_loop, name="rtp-rx", daemon=True)]
        for t in self._threads:
            t.start()

    # -- counting -------------------------------------------------------

    def _count(self, d: dict[str, int], key: str) -> None:
        with self._lock:
            d[key] = d.get(key, 0) + 1

    def _send(self, data: bytes, what: str, retransmission: bool = False) -> None:
        self._count(self.summary.sent, what)
        if retransmission:
            self._count(self.summary.retransmitted, what)
        try:
            self.sip.sendto(data, self.server)
        except OSError:
            pass

    # -- receiving ------------------------------------------------------

    def _sip_loop(self) -> None:
        self.sip.settimeout(0.2)
        while not self.closing:
            try:
                data, _ = self.sip.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            msg = parse_sip(data)
            if msg is None:
                continue
            key = f"{msg.code} {msg.method}" if msg.is_response else msg.method
            self._count(self.summary.received, key)
            if msg.is_response:
                if msg.method == "INVITE" and 200 <= msg.code < 300 and self._ack is not None:
                    # a retransmitted 200: its ACK was lost (or is late)
                    if self.skip_acks > 0:
                        self.skip_acks -= 1
                    elif not self.vanished:
                        self.summary.acks_for_retransmitted_200 += 1
                        self._send(self._ack, "ACK", retransmission=True)
                    continue
                self.responses.put(msg)
            elif msg.method == "BYE":
                self.summary.byes_received += 1
                if self.summary.first_bye_received_s is None and self.answered_at:
                    self.summary.first_bye_received_s = time.monotonic() - self.answered_at
                if not self.vanished:
                    self._send(self._response(msg, 200, "OK"), "200 BYE")
            elif msg.method != "ACK" and not self.vanished:
                self._send(self._response(msg, 200 if msg.method == "OPTIONS" else 501,
                                          "OK" if msg.method == "OPTIONS" else "Not Implemented"),
                           f"{msg.method} response")

    def _rtp_loop(self) -> None:
        self.rtp.settimeout(0.2)
        while not self.closing:
            try:
                data, _ = self.rtp.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if not self.vanished:
                self.recorder.add(data)

    # -- building -------------------------------------------------------

    def _via(self, branch: str) -> str:
        return f"SIP/2.0/UDP {self.local_ip}:{self.sip_port};branch={branch};rport"

    def _request(self, method: str, uri: str, cseq: int, branch: str, body: str = "",
                 to_tag: str | None = None) -> bytes:
        to = f"<{self.ruri}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: {self._via(branch)}",
                 "Max-Forwards: 70",
                 f"From: <sip:{self.user}@{self.local_ip}>;tag={self.from_tag}",
                 f"To: {to}",
                 f"Call-ID: {self.call_id}",
                 f"CSeq: {cseq} {method}",
                 f"Contact: <sip:{self.user}@{self.local_ip}:{self.sip_port}>",
                 "User-Agent: gst-sip-faults-caller"]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def _response(self, req: SipMessage, code: int, reason: str) -> bytes:
        lines = [f"SIP/2.0 {code} {reason}"]
        lines += [f"Via: {v}" for v in req.all("via")]
        lines += [f"From: {req.get('from')}", f"To: {req.get('to')}",
                  f"Call-ID: {req.get('call-id')}", f"CSeq: {req.get('cseq')}",
                  "Content-Length: 0"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _sdp(self) -> str:
        sid = int(time.time())
        return ("v=0\r\n"
                f"o=faults {sid} {sid} IN IP4 {self.local_ip}\r\n"
                "s=faults\r\n"
                f"c=IN IP4 {self.local_ip}\r\n"
                "t=0 0\r\n"
                f"m=audio {self.rtp_port} RTP/AVP 0\r\n"
                "a=rtpmap:0 PCMU/8000\r\n"
                "a=ptime:20\r\n"
                "a=sendrecv\r\n")

    # -- transactions ---------------------------------------------------

    def invite(self, timeout_b: float = 64 * T1) -> bool:
        """Send the INVITE (Timer A retransmissions until a response, Timer B), wait
        for the final response, ACK it. True if answered with 2xx."""
        branch = _branch()
        data = self._request("INVITE", self.ruri, 1, branch, self._sdp())
        start = time.monotonic()
        self._send(data, "INVITE")
        interval = T1
        next_tx = start + interval
        provisional = False
        while True:
            now = time.monotonic()
            if now - start > timeout_b:
                self.summary.error = "Timer B: no final response to INVITE"
                return False
            wait = (next_tx - now) if not provisional else 0.2
            try:
                msg = self.responses.get(timeout=max(0.01, min(wait, 0.2)))
            except queue.Empty:
                if not provisional and time.monotonic() >= next_tx:
                    self._send(data, "INVITE", retransmission=True)
                    interval *= 2   # Timer A doubles without the T2 cap (RFC 3261 17.1.1.2)
                    next_tx = time.monotonic() + interval
                continue
            if msg.method != "INVITE" or msg.get("call-id") != self.call_id:
                continue
            if msg.code < 200:
                provisional = True
                continue
            self.summary.final_code = msg.code
            self.to_tag = _tag(msg.get("to"))
            if msg.code >= 300:
                # ACK for a non-2xx final response is in the same transaction
                ack = (f"ACK {self.ruri} SIP/2.0\r\nVia: {self._via(branch)}\r\nMax-Forwards: 70\r\n"
                       f"From: {msg.get('from')}\r\nTo: {msg.get('to')}\r\nCall-ID: {self.call_id}\r\n"
                       "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n").encode()
                self._send(ack, "ACK")
                self.summary.error = f"INVITE answered {msg.first}"
                return False
            contact = msg.get("contact")
            if contact:
                self.remote_target = _uri_in(contact)
            media = parse_sdp_media(msg.body)
            if media is None:
                self.summary.error = "200 OK without usable SDP"
                return False
            self.remote_media = media
            self.summary.remote_media = f"{media[0]}:{media[1]}"
            self._ack = self._request("ACK", self.remote_target, 1, _branch(), to_tag=self.to_tag)
            if self.skip_acks > 0:
                self.skip_acks -= 1   # as if this ACK was lost on the way
            else:
                self._send(self._ack, "ACK")
            self.answered_at = time.monotonic()
            self.summary.answered = True
            self.summary.setup_s = self.answered_at - start
            return True

    def bye(self, timeout_f: float = 64 * T1) -> bool:
        """Send BYE (Timer E retransmissions) and wait for its final response."""
        data = self._request("BYE", self.remote_target, 2, _branch(), to_tag=self.to_tag)
        start = time.monotonic()
        self.summary.bye_sent = True
        self._send(data, "BYE")
        interval = T1
        next_tx = start + interval
        while time.monotonic() - start < timeout_f:
            try:
                msg = self.responses.get(timeout=0.05)
            except queue.Empty:
                if time.monotonic() >= next_tx:
                    self._send(data, "BYE", retransmission=True)
                    interval = min(2 * interval, T2)
                    next_tx = time.monotonic() + interval
                continue
            if msg.method == "BYE" and msg.code >= 200:
                self.summary.bye_answered = msg.code
                return True
        return False

    # -- media ----------------------------------------------------------

    def send_audio(self, ulaw: bytes, jitter_ms: float = 0.0, reorder: float = 0.0,
                   seed: int | None = None) -> RtpSender:
        """Start sending `ulaw` to the server's media address; returns the sender."""
        sender = RtpSender(self.rtp, self.remote_media, ulaw, jitter_ms, reorder, seed)
        self._sender = sender
        sender.start()
        return sender

    def vanish(self) -> None:
        """Stop RTP and every SIP answer, as a phone that lost its network would."""
        sender = getattr(self, "_sender", None)
        if sender is not None:
            sender.stop()
            sender.join(2)
        self.vanished = True
        if self.answered_at:
            self.summary.vanished_at_s = time.monotonic() - self.answered_at

    def close(self) -> CallSummary:
        """Stop the threads, close the sockets and fill in the RTP counts."""
        sender = getattr(self, "_sender", None)
        if sender is not None:
            sender.stop()
            sender.join(2)
            self.summary.rtp_sent = sender.stats.sent
            self.summary.rtp_reordered = sender.stats.reordered
            self.summary.rtp_max_late_ms = round(sender.stats.max_late_ms, 1)
        self.closing = True
        for t in self._threads:
            t.join(2)
        self.sip.close()
        self.rtp.close()
        self.summary.rtp_received = self.recorder.count
        self.summary.rtp_received_other_pt = self.recorder.other_pt
        return self.summary


def run_call(args: argparse.Namespace) -> dict[str, Any]:
    """One call as the command line describes; returns the summary as a dict."""
    host, _, port = args.server.rpartition(":")
    caller = SipCaller((host, int(port)), args.local_ip, rtp_port=args.rtp_port,
                       sip_port=args.sip_port, service=args.service)
    caller.skip_acks = args.skip_acks
    try:
        if not caller.invite():
            return vars(caller.close())
        ulaw = b""
        if args.audio:
            rate, x = read_audio(args.audio)
            if rate != 8000:
                raise SystemExit(f"{args.audio}: needs 8000 Hz, has {rate}")
            ulaw = ulaw_encode(x)
        if args.seconds:   # loop or cut the audio to this length
            n = int(args.seconds * 8000)
            ulaw = (ulaw * (n // max(1, len(ulaw)) + 1))[:n] if ulaw else b"\xff" * n
        sender = caller.send_audio(ulaw, args.jitter_ms, args.reorder, args.seed)
        if args.vanish_after is not None:
            time.sleep(args.vanish_after)
            caller.vanish()
            time.sleep(args.linger)
        else:
            while sender.is_alive() and caller.summary.byes_received == 0:
                time.sleep(0.05)
            if caller.summary.byes_received == 0:
                time.sleep(args.tail)   # the last echoed audio comes back
            if caller.summary.byes_received == 0:
                caller.bye()
        summary = caller.close()
        if args.record:
            write_wav(Path(args.record), caller.recorder.audio())
            with open(Path(args.record).with_suffix(".rtp.tsv"), "w") as f:
                for arrival, seq, ts, payload in caller.recorder.packets:
                    f.write(f"{arrival:.4f}\t{seq}\t{ts}\t{len(payload)}\n")
        return vars(summary)
    except BaseException:
        caller.close()
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="IP:PORT of the SIP server")
    ap.add_argument("--local-ip", default="127.0.0.1")
    ap.add_argument("--sip-port", type=int, default=0)
    ap.add_argument("--rtp-port", type=int, default=0)
    ap.add_argument("--service", default="echo", help="user part of the Request-URI")
    ap.add_argument("--audio", help="8 kHz WAV (or .ulaw) to send")
    ap.add_argument("--seconds", type=float, default=0.0, help="send this long (loops the audio)")
    ap.add_argument("--jitter-ms", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0, help="probability of swapping a packet with the next")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--tail", type=float, default=1.0, help="seconds to keep recording after the audio")
    ap.add_argument("--vanish-after", type=float, default=None,
                    help="after this many seconds stop RTP and stop answering SIP")
    ap.add_argument("--linger", type=float, default=8.0, help="seconds to keep counting after vanishing")
    ap.add_argument("--skip-acks", type=int, default=0,
                    help="do not send the first N ACKs (the server retransmits its 200 OK)")
    ap.add_argument("--record", help="write the audio received to this WAV")
    ap.add_argument("--summary", help="write the JSON summary here (default: stdout)")
    args = ap.parse_args(argv)
    result = run_call(args)
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.summary:
        Path(args.summary).write_text(text + "\n")
    print(text, flush=True)
    return 0 if result.get("answered") else 1


if __name__ == "__main__":
    sys.exit(main())
