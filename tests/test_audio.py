"""Audio: SoundFont rendering of rolls and MIDI files, WAV files, the render command line,
and what happens when the synthesizer cannot load."""

import subprocess
import sys

import mido
import numpy as np
import pytest

from draw_music.corpora import midi_io
from draw_music.listening import audio
from draw_music.listening import render
from tests.conftest import REPO

RATE = audio.DEFAULT_SAMPLE_RATE


def _need_synth():
  ok, why = audio.audio_or_reason()
  if not ok:
    pytest.skip(why)


def _peak_hz(signal, rate=RATE):
  spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
  return np.fft.rfftfreq(len(signal), 1.0 / rate)[spectrum.argmax()]


def _first_loud(signal, start_s, rate=RATE, threshold=0.01):
  """Seconds of the first sample after `start_s` louder than `threshold`."""
  start = int(start_s * rate)
  return (start + int(np.argmax(np.abs(signal[start:]) > threshold))) / rate


def _midi_from_text(lines, ticks_per_beat=480):
  track = mido.MidiTrack()
  for line in lines:
    if line.startswith("set_tempo"):
      tempo, time = (int(x.split("=")[1]) for x in line.split()[1:])
      track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=time))
    else:
      track.append(mido.Message.from_str(line))
  midi = mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat)
  midi.tracks.append(track)
  return midi


def test_roll_plays_its_pitches_at_the_roll_tempo():
  _need_synth()
  # A4 (440 Hz) for two beats, silence, then E5 (659.3 Hz) from beat 4 to beat 5.
  roll = np.zeros((48, 128), bool)
  roll[0:16, 69] = True
  roll[32:40, 76] = True
  for bpm in (120.0, 60.0):
    beat = 60.0 / bpm
    sound = audio.render_roll(roll, tempo_bpm=bpm).mean(axis=1)
    # Length: the roll's 6 beats plus the 1 s release tail.
    assert len(sound) == round((6 * beat + audio.DEFAULT_TAIL_S) * RATE)
    assert _peak_hz(sound[:int(0.9 * 2 * beat * RATE)]) == pytest.approx(440.0, rel=0.01)
    assert _peak_hz(sound[int(4 * beat * RATE):int(5 * beat * RATE)]) == pytest.approx(
        659.26, rel=0.01)
    # The second note starts at beat 4 (not earlier: the first has died out by then).
    assert _first_loud(sound, 3.5 * beat) == pytest.approx(4 * beat, abs=0.03)
  assert np.abs(sound).max() <= 1.0


def test_midi_file_plays_at_its_own_tempo_changes(tmp_path):
  _need_synth()
  # 60 bpm (1 s a beat) for the first beat (a half-beat note), then 240 bpm (0.25 s a beat).
  midi = _midi_from_text([
      "set_tempo tempo=1000000 time=0",
      "note_on channel=0 note=60 velocity=90 time=0",
      "note_off channel=0 note=60 velocity=0 time=240",
      "set_tempo tempo=250000 time=240",
      "note_on channel=3 note=72 velocity=90 time=960",  # 2 beats at 240 bpm: t = 1.5 s
      "note_on channel=3 note=72 velocity=0 time=480",
  ])
  path = tmp_path / "tempo.mid"
  midi.save(path)
  events, length = audio.midi_events(mido.MidiFile(path))
  np.testing.assert_allclose(events[:, 0], [0.0, 0.5, 1.5, 1.75])
  np.testing.assert_array_equal(events[:, 1:], [[0, 60, 90], [0, 60, 0], [3, 72, 90],
                                                [3, 72, 0]])
  assert length == pytest.approx(1.75)
  sound = audio.render_midi(path).mean(axis=1)
  assert len(sound) == round(2.75 * RATE)
  assert _first_loud(sound, 1.2) == pytest.approx(1.5, abs=0.03)
  assert _peak_hz(sound[int(1.5 * RATE):int(1.75 * RATE)]) == pytest.approx(523.25, rel=0.01)


def test_percussion_is_silent_velocity_sets_loudness_renders_repeat():
  _need_synth()
  drums = _midi_from_text(["note_on channel=9 note=38 velocity=100 time=0",
                           "note_on channel=9 note=38 velocity=0 time=480"])
  assert np.abs(audio.render_midi(drums)).max() == 0.0
  roll = np.zeros((16, 128), bool)
  roll[:, 64] = True
  loud = np.abs(audio.render_roll(roll, velocity=120)).max()
  soft = np.abs(audio.render_roll(roll, velocity=30)).max()
  assert loud > 2 * soft > 0
  # Renders are independent: the cached synthesizer starts each one from silence.
  np.testing.assert_array_equal(audio.render_roll(roll, velocity=30),
                                audio.render_roll(roll, velocity=30))


def test_wav_round_trip(tmp_path):
  t = np.arange(1000) / RATE
  stereo = np.stack([0.5 * np.sin(2 * np.pi * 300 * t), -0.25 * np.ones_like(t)], 1)
  path = audio.write_wav(stereo, tmp_path / "sub" / "x.wav")
  back, rate = audio.read_wav(path)
  assert rate == RATE and back.shape == (1000, 2)
  np.testing.assert_allclose(back, stereo, atol=1.0 / 32767)


def test_render_command_line(tmp_path):
  _need_synth()
  roll = np.zeros((24, 128), bool)
  roll[:8, 60] = True
  for sub in ("a", "b"):
    midi_io.write_midi(roll, tmp_path / "in" / sub / "piece.mid")
  np.save(tmp_path / "in" / "roll.npy", roll)
  assert render.main([str(tmp_path / "in"), "--out_dir", str(tmp_path / "wav")]) == 0
  made = sorted(p.relative_to(tmp_path / "wav").as_posix()
                for p in (tmp_path / "wav").rglob("*.wav"))
  assert made == ["a/piece.wav", "b/piece.wav", "roll.wav"]
  # 24 steps = 3 beats = 1.5 s at 120 bpm, plus the tail.
  sound, _ = audio.read_wav(tmp_path / "wav" / "roll.wav")
  assert len(sound) == round(2.5 * RATE)


def test_render_bad_input_is_one_line(tmp_path):
  bad = tmp_path / "bad.mid"
  bad.write_bytes(b"MThd garbage")
  for args in ([str(tmp_path / "missing.mid")], [str(bad)]):
    proc = subprocess.run([sys.executable, "-m", "draw_music.listening.render", *args,
                           "--out_dir", str(tmp_path / "o")], cwd=REPO, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert args[0] in proc.stderr


@pytest.fixture
def no_synth(monkeypatch):
  """tinysoundfont made unimportable (as when its wheel is not installed)."""
  monkeypatch.setitem(sys.modules, "tinysoundfont", None)  # `import` raises ImportError
  audio._synth.cache_clear()  # pylint: disable=protected-access
  yield
  audio._synth.cache_clear()  # pylint: disable=protected-access


def test_without_synth_a_clear_message(no_synth, tmp_path, capsys):
  del no_synth
  ok, why = audio.audio_or_reason()
  assert not ok
  assert "tinysoundfont" in why and "pip install" in why
  with pytest.raises(audio.SynthUnavailable, match="tinysoundfont"):
    audio.render_roll(np.ones((8, 128), bool))
  midi_io.write_midi(np.ones((8, 128), bool), tmp_path / "x.mid")
  assert audio.try_render_files([tmp_path / "x.mid"], log=print) == []
  assert "audio skipped: no synthesizer" in capsys.readouterr().out
  assert render.main([str(tmp_path / "x.mid"), "--out_dir", str(tmp_path / "o")]) == 2
  assert "tinysoundfont" in capsys.readouterr().err
  assert not (tmp_path / "o").exists()
