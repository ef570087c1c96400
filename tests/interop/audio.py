#!/usr/bin/python3
"""Audio helpers for the interop tests: read WAV / G.711, align two recordings by
cross-correlation and report how alike they are.

Usable as a module (``from audio import compare``) and from the command line:

    /usr/bin/python3 tests/interop/audio.py compare sent.wav heard.wav   (both measures)
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


def best_window_match(r, seg):
    """Offset k in seg where r fits best, with r entirely inside seg, and the
    normalized correlation there (each candidate normalized by its own energy, so
    a louder stretch elsewhere cannot win)."""
    n = len(r)
    r0 = r - r.mean()
    rr = float(np.dot(r0, r0))
    if len(seg) < n or rr <= 0:
        return 0, 0.0
    c = _xcorr(r0, seg)[n - 1:len(seg)]
    cs = np.concatenate([[0.0], np.cumsum(seg)])
    cs2 = np.concatenate([[0.0], np.cumsum(seg * seg)])
    sums = cs[n:] - cs[:-n]
    var = np.maximum(cs2[n:] - cs2[:-n] - sums * sums / n, 1e-12)
    norm = c / np.sqrt(var * rr)
    k = int(np.argmax(norm))
    return k, float(min(1.0, norm[k]))


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


class Segmental:
    """Result of compare_segmental: the correlation after piecewise alignment."""

    def __init__(self, correlation, windows, slips, good_fraction, global_cmp):
        self.correlation = correlation      # energy-weighted mean of window correlations
        self.windows = windows              # [(start_s, lag_ms, corr)]
        self.slips = slips                  # [(at_s, from_lag_ms, to_lag_ms)]
        self.good_fraction = good_fraction  # share of speech windows correlating >= 0.9
        self.global_cmp = global_cmp        # the single-lag Comparison

    def __repr__(self):
        slips = ", ".join(f"{t:.1f}s:{a:+.0f}->{b:+.0f}ms" for t, a, b in self.slips) or "none"
        return (f"segmental correlation={self.correlation:.4f} "
                f"good windows={100 * self.good_fraction:.0f}% slips={slips}; "
                f"single alignment: {self.global_cmp!r}")


def compare_segmental(ref, sig, rate=8000, sig_rate=None, window_s=0.5, search_s=1.0):
    """Correlation after piecewise alignment: ref is cut into windows of window_s;
    each window with speech is aligned on its own (within search_s of the overall
    lag) and correlated. A stream that lost or inserted a stretch of audio (a
    jitter buffer dropping late packets on a loaded machine) still scores high for
    the audio that did arrive, and the slips are listed; audio that is wrong
    (noise, silence, other speech, a wrong codec) scores low in every window."""
    if isinstance(ref, (str, bytes)) or hasattr(ref, "__fspath__"):
        rate, ref = read_audio(ref)
    if isinstance(sig, (str, bytes)) or hasattr(sig, "__fspath__"):
        sig_rate, sig = read_audio(sig)
    if sig_rate is not None and sig_rate != rate:
        sig = resample_to(sig, sig_rate, rate)
    g = compare(ref, sig, rate=rate)
    win = int(window_s * rate)
    search = int(search_s * rate)
    windows = []
    weights = []
    last_lag = g.lag
    for start in range(0, len(ref) - win + 1, win):
        r = ref[start:start + win]
        e = rms(r)
        if e < 0.01:
            continue
        best = None
        # search around the lag found so far, then around the overall one
        for centre in dict.fromkeys((last_lag, g.lag)):
            lo = start + centre - search
            hi = start + centre + win + search
            seg = sig[max(0, lo):max(0, min(len(sig), hi))]
            # pad with silence where the window reaches past the recording
            seg = np.concatenate([np.zeros(max(0, -lo)), seg,
                                  np.zeros(max(0, hi - max(lo, len(sig))))])[: hi - lo]
            k, corr = best_window_match(r, seg)
            if best is None or corr > best[1]:
                best = (lo + k - start, corr)
        if best is None:
            windows.append((start / rate, None, 0.0))
            weights.append(e)
            continue
        if best[1] >= 0.9:
            last_lag = best[0]
        windows.append((start / rate, 1000.0 * best[0] / rate, best[1]))
        weights.append(e)
    if not windows:
        return Segmental(0.0, [], [], 0.0, g)
    w = np.array(weights)
    c = np.array([x[2] for x in windows])
    slips = []
    prev = None
    for t, lag, corr in windows:
        if lag is None or corr < 0.9:
            continue
        if prev is not None and abs(lag - prev) > 1.0:
            slips.append((t, prev, lag))
        prev = lag
    return Segmental(float(np.sum(w * c) / np.sum(w)), windows, slips,
                     float(np.mean(c >= 0.9)), g)


def active_seconds(x, rate, threshold=0.01, frame_ms=20):
    """Seconds of audio whose 20 ms frame RMS is above threshold (not silence)."""
    n = int(rate * frame_ms / 1000)
    if n == 0 or len(x) < n:
        return 0.0
    frames = x[: len(x) - len(x) % n].reshape(-1, n)
    return float(np.sum(np.sqrt(np.mean(frames ** 2, axis=1)) > threshold)) * frame_ms / 1000.0


def main(argv):
    if len(argv) >= 3 and argv[1] == "compare":
        print(compare_segmental(argv[2], argv[3]))
        return 0
    if len(argv) >= 3 and argv[1] == "lags":
        rate, ref = read_audio(argv[2])
        sig_rate, sig = read_audio(argv[3])
        sig = resample_to(sig, sig_rate, rate)
        c = compare_segmental(ref, sig, rate=rate)
        print(c)
        for t, lag, corr in c.windows:
            print(f"{t:7.2f}s  lag {lag if lag is not None else float('nan'):8.1f} ms  corr {corr:.3f}")
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
