"""Audio helpers for the pipecat_sip tests: WAV I/O, alignment by cross-correlation,
RTP capture parsing (pcap) and G.711 mu-law decoding."""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples in [-1, 1] and the sample rate."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        ch = w.getnchannels()
        width = w.getsampwidth()
        data = w.readframes(w.getnframes())
    assert width == 2, f"{path}: {width * 8}-bit WAV, expected 16-bit"
    x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write float samples in [-1, 1] as a 16-bit mono WAV."""
    pcm = np.clip(samples * 32767.0, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def pcm16_to_float(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def tone(freq: float, secs: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(secs * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) if len(x) else 0.0


@dataclass
class Alignment:
    lag: int  # heard[i + lag] ~ ref[i]
    correlation: float  # Pearson correlation of the aligned, active part of ref
    overlap: int  # samples compared


def align(ref: np.ndarray, heard: np.ndarray) -> Alignment:
    """Find where ``ref`` occurs in ``heard`` (FFT cross-correlation) and return the
    Pearson correlation over the part of ``ref`` that holds sound."""
    if len(ref) == 0 or len(heard) == 0:
        return Alignment(0, 0.0, 0)
    n = 1
    while n < len(ref) + len(heard):
        n *= 2
    r = np.fft.rfft(ref.astype(np.float64), n)
    h = np.fft.rfft(heard.astype(np.float64), n)
    xc = np.fft.irfft(h * np.conj(r), n)
    # lags 0..len(heard)-1 (heard later than ref) and negative lags at the end
    lags = np.concatenate([np.arange(0, len(heard)), np.arange(-len(ref) + 1, 0)])
    vals = np.concatenate([xc[: len(heard)], xc[n - len(ref) + 1 :]])
    lag = int(lags[int(np.argmax(vals))])
    # Overlap
    r0 = max(0, -lag)
    h0 = max(0, lag)
    m = min(len(ref) - r0, len(heard) - h0)
    if m <= 0:
        return Alignment(lag, 0.0, 0)
    a = ref[r0 : r0 + m].astype(np.float64)
    b = heard[h0 : h0 + m].astype(np.float64)
    # Only where the reference has sound (20 ms frames above -40 dBFS).
    frame = 160
    k = m // frame
    if k == 0:
        return Alignment(lag, 0.0, 0)
    fa = a[: k * frame].reshape(k, frame)
    active = np.sqrt(np.mean(fa**2, axis=1)) > 0.01
    if not active.any():
        return Alignment(lag, 0.0, 0)
    a2 = fa[active].ravel()
    b2 = b[: k * frame].reshape(k, frame)[active].ravel()
    if np.std(a2) == 0 or np.std(b2) == 0:
        return Alignment(lag, 0.0, len(a2))
    c = float(np.corrcoef(a2, b2)[0, 1])
    return Alignment(lag, c, len(a2))


# ---------------------------------------------------------------- G.711 / RTP / pcap

def _ulaw_table() -> np.ndarray:
    out = np.zeros(256, dtype=np.int16)
    for i in range(256):
        u = ~i & 0xFF
        sign = u & 0x80
        exponent = (u >> 4) & 0x07
        mantissa = u & 0x0F
        sample = ((mantissa << 3) + 0x84) << exponent
        sample -= 0x84
        out[i] = -sample if sign else sample
    return out


ULAW = _ulaw_table()


def ulaw_decode(payload: bytes) -> np.ndarray:
    return ULAW[np.frombuffer(payload, dtype=np.uint8)].astype(np.float32) / 32768.0


@dataclass
class RtpPacket:
    time: float
    src_port: int
    dst_port: int
    pt: int
    seq: int
    ts: int
    ssrc: int
    marker: bool
    payload: bytes


def read_pcap_rtp(path: Path) -> list[RtpPacket]:
    """UDP/RTP packets (IPv4 or IPv6) from a pcap (Ethernet, Linux cooked or loopback)."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file (pcapng? use dumpcap -P)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    out: list[RtpPacket] = []
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off : off + 16])
        off += 16
        pkt = data[off : off + incl]
        off += incl
        t = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:  # Ethernet
            eth_type = struct.unpack(">H", pkt[12:14])[0]
            l3 = pkt[14:]
        elif linktype == 113:  # Linux cooked
            eth_type = struct.unpack(">H", pkt[14:16])[0]
            l3 = pkt[16:]
        elif linktype == 0:  # BSD loopback
            fam = struct.unpack("<I", pkt[:4])[0]
            eth_type = 0x0800 if fam == 2 else 0x86DD
            l3 = pkt[4:]
        else:
            continue
        if eth_type == 0x0800:
            ihl = (l3[0] & 0x0F) * 4
            if l3[9] != 17:
                continue
            udp = l3[ihl:]
        elif eth_type == 0x86DD:
            if l3[6] != 17:
                continue
            udp = l3[40:]
        else:
            continue
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        rtp = udp[8:ulen]
        if len(rtp) < 12 or (rtp[0] >> 6) != 2:
            continue
        cc = rtp[0] & 0x0F
        hdr = 12 + 4 * cc
        if rtp[0] & 0x10 and len(rtp) >= hdr + 4:
            ext_len = struct.unpack(">H", rtp[hdr + 2 : hdr + 4])[0]
            hdr += 4 + 4 * ext_len
        payload = rtp[hdr:]
        if rtp[0] & 0x20 and payload:
            payload = payload[: len(payload) - payload[-1]]
        out.append(
            RtpPacket(
                time=t,
                src_port=sport,
                dst_port=dport,
                pt=rtp[1] & 0x7F,
                marker=bool(rtp[1] & 0x80),
                seq=struct.unpack(">H", rtp[2:4])[0],
                ts=struct.unpack(">I", rtp[4:8])[0],
                ssrc=struct.unpack(">I", rtp[8:12])[0],
                payload=payload,
            )
        )
    return out


@dataclass
class Match:
    """How well ``heard`` holds ``ref``: globally, and in 0.5 s pieces each with its own
    delay (tolerates the small timeline slips a starved CPU causes in a live echo)."""

    correlation: float  # one delay for the whole reference
    lag: int
    pieces: int  # pieces of the reference holding sound
    good_fraction: float  # pieces matching at r >= 0.9 (own delay, near the global one)
    drift: int  # largest |piece delay - global delay| among good pieces, samples

    @property
    def ok(self) -> bool:
        return self.correlation >= 0.9 or (self.good_fraction >= 0.9 and self.drift <= 2000)

    def __str__(self) -> str:
        return (f"r={self.correlation:.3f} lag={self.lag / 8:.0f} ms, {self.good_fraction * 100:.0f}% "
                f"of {self.pieces} pieces r>=0.9, drift {self.drift / 8:.0f} ms")


def speech_match(ref: np.ndarray, heard: np.ndarray, piece: int = 4000) -> Match:
    g = align(ref, heard)
    good = total = 0
    drift = 0
    for s0 in range(0, len(ref) - piece + 1, piece):
        seg = ref[s0 : s0 + piece]
        if rms(seg) < 0.01:
            continue
        total += 1
        lo = max(0, g.lag + s0 - 4000)
        window = heard[lo : g.lag + s0 + piece + 4000]
        b = align(seg, window)
        if b.correlation >= 0.9:
            good += 1
            drift = max(drift, abs(lo + b.lag - (g.lag + s0)))
    return Match(g.correlation, g.lag, total, good / total if total else 0.0, drift)
