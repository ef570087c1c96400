#!/usr/bin/python3
"""Audio helpers for the interop tests: read WAV / G.711, align two recordings by
cross-correlation and report how alike they are.

Usable as a module (``from audio import compare``) and from the command line:

    /usr/bin/python3 tests/interop/audio.py compare sent.wav heard.wav
    /usr/bin/python3 tests/interop/audio.py lags sent.wav heard.wav   (lag per 0.5 s window)
    /usr/bin/python3 tests/interop/audio.py info call.wav

Needs numpy (Debian: python3-numpy).
"""

import struct
import sys
import wave

import numpy as np

# ---------------------------------------------------------------- reading


def read_wav(path):
    """Return (rate, samples) of a PCM WAV file: samples as float64 in [-1, 1],
    mono (channels are averaged)."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        channels = w.getnchannels()
        width = w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    elif width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0
    else:
        raise ValueError(f"{path}: unsupported sample width {width}")
    if channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return rate, x


def ulaw_decode(data):
    """Decode G.711 mu-law bytes to float64 samples in [-1, 1]."""
    u = ~np.frombuffer(bytes(data), dtype=np.uint8)
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent
    magnitude -= 0x84
    x = np.where(sign != 0, -magnitude, magnitude).astype(np.float64)
    return x / 32768.0


def read_ulaw(path):
    with open(path, "rb") as f:
        return 8000, ulaw_decode(f.read())


def read_audio(path):
    p = str(path)
    if p.endswith((".ulaw", ".mulaw", ".ul")):
        return read_ulaw(p)
    return read_wav(p)


def check_wav_file(path):
    """Check that a WAV file is complete: RIFF size and data chunk size agree with
    the file size (a recording that was not finalized at EOS has a header with size
    0 or 0xFFFFFFFF). Returns a dict with the header facts; raises AssertionError."""
    with open(path, "rb") as f:
        blob = f.read()
    assert len(blob) >= 44, f"{path}: only {len(blob)} bytes"
    assert blob[0:4] == b"RIFF" and blob[8:12] == b"WAVE", f"{path}: not a RIFF/WAVE file"
    riff_size = struct.unpack("<I", blob[4:8])[0]
    assert riff_size == len(blob) - 8, (
        f"{path}: RIFF size {riff_size} != file size - 8 ({len(blob) - 8}): not finalized")
    pos = 12
    fmt = None
    data_size = None
    while pos + 8 <= len(blob):
        cid = blob[pos:pos + 4]
        size = struct.unpack("<I", blob[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", blob[pos + 8:pos + 24])
        elif cid == b"data":
            data_size = size
            assert pos + 8 + size <= len(blob), (
                f"{path}: data chunk claims {size} bytes, file has {len(blob) - pos - 8}")
            break
        pos += 8 + size + (size & 1)
    assert fmt is not None, f"{path}: no fmt chunk"
    assert data_size is not None, f"{path}: no data chunk"
    audio_format, channels, rate, _, block_align, bits = fmt
    return {"format": audio_format, "channels": channels, "rate": rate,
            "bits": bits, "data_bytes": data_size,
            "seconds": data_size / float(block_align * rate) if rate and block_align else 0.0}


# ---------------------------------------------------------------- measuring


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def resample_to(x, rate, target):
    """Linear-interpolation resampling (good enough to compare speech envelopes)."""
    if rate == target or len(x) == 0:
        return x
    n = int(round(len(x) * target / rate))
    t = np.arange(n) * (rate / target)
    return np.interp(t, np.arange(len(x)), x)


def _xcorr(a, b):
    """Full cross-correlation c[k] = sum_n a[n] * b[n + k - (len(a) - 1)], via FFT."""
    n = len(a) + len(b) - 1
    size = 1 << (n - 1).bit_length()
    fa = np.fft.rfft(a[::-1], size)
    fb = np.fft.rfft(b, size)
    return np.fft.irfft(fa * fb, size)[:n]


def find_lag(ref, sig, max_lag=None):
    """Lag (in samples) at which ref best matches sig: sig[n + lag] ~ ref[n].
    A positive lag means the reference appears later in sig."""
    c = _xcorr(ref - ref.mean(), sig - sig.mean())
    lags = np.arange(len(c)) - (len(ref) - 1)
    if max_lag is not None:
        keep = np.abs(lags) <= max_lag
        c, lags = c[keep], lags[keep]
    return int(lags[int(np.argmax(c))])


def aligned_segments(ref, sig, lag):
    """The overlapping parts of ref and sig once sig is shifted by lag."""
    if lag >= 0:
        s = sig[lag:]
        r = ref
    else:
        s = sig
        r = ref[-lag:]
    n = min(len(r), len(s))
    return r[:n], s[:n]


def normalized_correlation(a, b):
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt(np.dot(a, a) * np.dot(b, b))
    return float(np.dot(a, b) / den) if den > 0 else 0.0


class Comparison:
    def __init__(self, correlation, lag, rate, overlap, ref_rms, sig_rms):
        self.correlation = correlation
        self.lag = lag
        self.rate = rate
        self.overlap = overlap
        self.ref_rms = ref_rms
        self.sig_rms = sig_rms

    @property
    def delay_ms(self):
        return 1000.0 * self.lag / self.rate

    @property
    def overlap_s(self):
        return self.overlap / float(self.rate)

    @property
    def gain(self):
        return self.sig_rms / self.ref_rms if self.ref_rms else 0.0

    def __repr__(self):
        return (f"correlation={self.correlation:.4f} delay={self.delay_ms:.1f}ms "
                f"overlap={self.overlap_s:.2f}s gain={self.gain:.3f}")


def compare(ref, sig, rate=8000, sig_rate=None, max_lag_s=None):
    """Align sig to ref by cross-correlation and return a Comparison.

    ref, sig: file paths (WAV or raw .ulaw) or numpy arrays at `rate`
    (sig at `sig_rate` if given). The correlation is the normalized (Pearson)
    correlation of the overlapping part: 1.0 for identical shapes, ~0 for
    unrelated audio, independent of gain. Silence in the overlap lowers nothing
    (it contributes nothing to either sum); missing speech does."""
    if isinstance(ref, (str, bytes)) or hasattr(ref, "__fspath__"):
        rate, ref = read_audio(ref)
    if isinstance(sig, (str, bytes)) or hasattr(sig, "__fspath__"):
        sig_rate, sig = read_audio(sig)
    if sig_rate is not None and sig_rate != rate:
        sig = resample_to(sig, sig_rate, rate)
    max_lag = int(max_lag_s * rate) if max_lag_s else None
    lag = find_lag(ref, sig, max_lag)
    r, s = aligned_segments(ref, sig, lag)
    return Comparison(normalized_correlation(r, s), lag, rate, len(r), rms(r), rms(s))


def local_lags(ref, sig, rate=8000, window_s=0.5, search_s=2.0):
    """For each window of ref (skipping silent ones): (start_s, lag_ms, correlation)
    of its best match in sig. Shows where a stream slipped (gap, lost packets,
    clock drift): the lag changes from one window to the next."""
    win = int(window_s * rate)
    search = int(search_s * rate)
    out = []
    for start in range(0, len(ref) - win + 1, win):
        r = ref[start:start + win]
        if rms(r) < 0.01:
            continue
        lo = max(0, start - search)
        seg = sig[lo:start + win + search]
        if len(seg) < win:
            break
        lag = find_lag(r, seg)
        a, b = aligned_segments(r, seg, lag)
        out.append((start / rate, 1000.0 * (lo + lag - start) / rate, normalized_correlation(a, b)))
    return out


def active_seconds(x, rate, threshold=0.01, frame_ms=20):
    """Seconds of audio whose 20 ms frame RMS is above threshold (not silence)."""
    n = int(rate * frame_ms / 1000)
    if n == 0 or len(x) < n:
        return 0.0
    frames = x[: len(x) - len(x) % n].reshape(-1, n)
    return float(np.sum(np.sqrt(np.mean(frames ** 2, axis=1)) > threshold)) * frame_ms / 1000.0


def main(argv):
    if len(argv) >= 3 and argv[1] == "compare":
        c = compare(argv[2], argv[3])
        print(c)
        return 0
    if len(argv) >= 3 and argv[1] == "lags":
        rate, ref = read_audio(argv[2])
        sig_rate, sig = read_audio(argv[3])
        sig = resample_to(sig, sig_rate, rate)
        c = compare(ref, sig, rate=rate)
        print(c)
        for t, lag, corr in local_lags(ref, sig, rate):
            print(f"{t:7.2f}s  lag {lag:8.1f} ms  corr {corr:.3f}")
        return 0
    if len(argv) >= 2 and argv[1] == "info":
        info = check_wav_file(argv[2])
        rate, x = read_wav(argv[2])
        print(info, f"rms={rms(x):.4f} active={active_seconds(x, rate):.2f}s")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
