"""The audio comparison used by the interop tests must tell alike from unlike."""

import numpy as np

import audio


def test_identical_after_delay_and_gain(audio_files):
    rate, x = audio.read_wav(audio_files.speech_wav)
    delayed = np.concatenate([np.zeros(1234), 0.3 * x, np.zeros(400)])
    c = audio.compare(x, delayed)
    assert c.correlation > 0.999
    assert c.lag == 1234
    assert abs(c.gain - 0.3) < 0.01


def test_g711_round_trip_is_above_threshold(audio_files):
    c = audio.compare(audio_files.speech_wav, audio_files.speech_ulaw)
    assert c.correlation >= 0.99, c
    assert c.lag == 0


def test_unrelated_audio_is_far_below_threshold(audio_files):
    c1 = audio.compare(audio_files.speech_wav, audio_files.prompt_wav)
    rate, x = audio.read_wav(audio_files.speech_wav)
    c2 = audio.compare(x, np.random.default_rng(1).normal(0, 0.1, len(x)))
    assert c1.correlation < 0.5, c1
    assert c2.correlation < 0.2, c2


def test_wav_check_rejects_unfinalized_header(audio_files, tmp_path):
    data = open(audio_files.speech_wav, "rb").read()
    info = audio.check_wav_file(audio_files.speech_wav)
    assert info["rate"] == 8000 and info["channels"] == 1
    broken = tmp_path / "broken.wav"
    broken.write_bytes(data[:4] + b"\0\0\0\0" + data[8:])
    try:
        audio.check_wav_file(broken)
    except AssertionError:
        pass
    else:
        raise AssertionError("an unfinalized WAV header passed the check")


def test_segmental_tolerates_one_lost_stretch_and_reports_it(audio_files):
    rate, x = audio.read_wav(audio_files.speech_wav)
    cut = int(4.0 * rate)
    lost = np.concatenate([x[:cut], x[cut + int(0.3 * rate):]])   # 300 ms went missing
    single = audio.compare(x, lost)
    seg = audio.compare_segmental(x, lost)
    assert single.correlation < 0.9          # one alignment cannot cover both halves
    assert seg.correlation >= 0.9, seg
    assert len(seg.slips) == 1 and abs(seg.slips[0][2] + 300) < 2, seg


def test_segmental_rejects_unrelated_speech_and_noise(audio_files):
    rate, x = audio.read_wav(audio_files.speech_wav)
    _, p = audio.read_wav(audio_files.prompt_wav)
    other = np.concatenate([p, p])[: len(x)]
    assert audio.compare_segmental(x, other).correlation < 0.5
    noise = np.random.default_rng(2).normal(0, 0.1, len(x))
    assert audio.compare_segmental(x, noise).correlation < 0.3
    assert audio.compare_segmental(x, np.zeros(len(x))).correlation < 0.1
