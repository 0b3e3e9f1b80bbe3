"""Tests of draw_music.corpora.bundled: the score -> roll conversion, and the cached conversion.

Only one or two small Bach chorales are ever converted here; the full corpora are not.
"""

import json

from music21 import chord
from music21 import harmony
from music21 import instrument
from music21 import meter
from music21 import note
from music21 import stream
import numpy as np
import pytest

from draw_music.corpora import bundled
from draw_music.corpora import corpus


@pytest.fixture
def cache(tmp_path, monkeypatch):
  monkeypatch.setenv("DRAW_MUSIC_CACHE", str(tmp_path))
  return tmp_path


@pytest.fixture
def parse_calls(monkeypatch):
  """Counts the works parsed (that is, converted) by `bundled`."""
  calls = []
  real_parse = bundled._parse_work

  def counting_parse(path):
    calls.append(path)
    return real_parse(path)

  monkeypatch.setattr(bundled, "_parse_work", counting_parse)
  return calls


def _note(name, quarter_length):
  n = note.Note(name)
  n.duration.quarterLength = quarter_length
  return n


def _lopsided_score():
  """Two overlapping parts: one flat, one in measures; every rounding case once."""
  part_a = stream.Part()
  part_a.insert(0, _note("C4", 1))  # 60: steps [0, 8)
  part_a.insert(1, note.Rest(quarterLength=1))
  part_a.insert(2, chord.Chord(["E4", "G4"], quarterLength=2))  # 64, 67: [16, 32)
  part_a.insert(4, _note("D5", 1 / 3))  # 74: [32, 34.67 -> 35)
  part_a.insert(5, _note("F5", 1 / 16))  # 77: [40, 40.5 -> 41): halves round up
  part_a.insert(5.5, _note("A5", 1 / 32))  # 81: [44, 44.25 -> 44], shorter: one step
  part_a.insert(6.0625, _note("B5", 0.5))  # 83: [48.5 -> 49, 52.5 -> 53)
  part_a.insert(6, _note("G5", 1).getGrace())  # grace note: dropped
  part_a.insert(6, note.Unpitched(quarterLength=1))  # unpitched: ignored
  symbol = harmony.ChordSymbol("F#")  # F#3 A#3 C#4: an annotation, ignored
  symbol.duration.quarterLength = 4
  part_a.insert(0, symbol)

  part_b = stream.Part()
  bar1 = stream.Measure(number=1)
  bar1.insert(0, meter.TimeSignature("4/4"))
  bar1.insert(0, note.Rest(quarterLength=0.5))
  bar1.insert(0.5, _note("C4", 3))  # 60: [4, 28), overlaps part A's C4
  bar2 = stream.Measure(number=2)
  bar2.insert(0, note.Rest(quarterLength=1))
  bar2.insert(1, _note("C3", 2))  # 48: offset 4 + 1 = 5 -> [40, 56)
  bar2.insert(3, note.Rest(quarterLength=1))
  bar3 = stream.Measure(number=3)
  bar3.insert(0, note.Rest(quarterLength=4))  # trailing silence: the roll ends at 12 * 8
  part_b.insert(0, bar1)
  part_b.insert(4, bar2)
  part_b.insert(8, bar3)

  score = stream.Score()
  score.insert(0, part_a)
  score.insert(0, part_b)
  return score


def test_score_to_roll_matches_hand_computed_roll():
  expected = np.zeros((96, 128), bool)
  for pitch, start, end in [(60, 0, 28), (64, 16, 32), (67, 16, 32), (74, 32, 35),
                            (77, 40, 41), (81, 44, 45), (83, 49, 53), (48, 40, 56)]:
    expected[start:end, pitch] = True

  roll = bundled.score_to_roll(_lopsided_score())

  assert roll.dtype == bool
  assert roll.shape == (96, 128)
  np.testing.assert_array_equal(roll, expected)


def test_score_to_roll_moves_written_pitch_to_sounding_pitch_without_mutating():
  part = stream.Part()
  part.insert(0, instrument.Clarinet())  # in B flat: sounds a tone lower than written
  part.insert(0, _note("D4", 1))
  part.atSoundingPitch = False
  score = stream.Score()
  score.insert(0, part)

  roll = bundled.score_to_roll(score)

  assert np.flatnonzero(roll.any(axis=0)).tolist() == [60]
  assert [n.pitch.midi for n in score.flatten().notes] == [62]  # the input is unchanged


def test_score_to_roll_of_a_stream_without_notes_is_silent():
  part = stream.Part()
  part.insert(0, note.Rest(quarterLength=2))
  roll = bundled.score_to_roll(part)
  assert roll.shape == (16, 128)
  assert not roll.any()


def test_sources_take_each_work_once_from_music21():
  beethoven = [bundled.work_id(p) for p in bundled.bundled_sources("beethoven")]
  bach = [bundled.work_id(p) for p in bundled.bundled_sources("bach")]
  assert len(beethoven) == len(set(beethoven)) > 0
  assert beethoven.count("beethoven/opus18no1/movement1") == 1  # both .mxl and .krn there
  assert "beethoven/opus74" in beethoven
  assert len(bach) == len(set(bach)) > 100
  assert "bach/bwv846" not in bach  # a prelude, not a chorale
  assert bundled.bundled_sources("bach") == sorted(bundled.bundled_sources("bach"))


def test_convert_one_chorale_then_reuse_it(cache, parse_calls, capsys):
  folder = bundled.bundled_corpus_dir("bach", limit=1)

  assert folder == cache / "bundled" / "bach-first1"  # never the full corpus's folder
  assert not (cache / "bundled" / "bach").exists()
  source = bundled.bundled_sources("bach")[0]
  midi_files = sorted(p.name for p in folder.glob("*.mid"))
  assert midi_files == [source.stem + ".mid"]
  assert "[1/1] converting bach/" in capsys.readouterr().err
  manifest = json.loads((folder / "manifest.json").read_text())
  assert manifest["works"] == [bundled.work_id(source)]
  assert manifest["failed"] == []
  assert len(parse_calls) == 1

  loaded = corpus.load_corpus(folder)
  assert len(loaded) == 1
  assert loaded.skipped == ()
  np.testing.assert_array_equal(loaded.rolls[0],
                                bundled.score_to_roll(bundled._parse_work(source)))

  mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
  del parse_calls[:]
  assert bundled.bundled_corpus_dir("bach", limit=1) == folder
  assert parse_calls == []  # nothing parsed, nothing written
  assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == mtimes
  assert capsys.readouterr().err == ""


def test_interrupted_conversion_is_completed_not_trusted(cache, monkeypatch):
  real_parse = bundled._parse_work
  calls = []

  def interrupted_parse(path):
    calls.append(path)
    if len(calls) == 2:
      raise KeyboardInterrupt
    return real_parse(path)

  monkeypatch.setattr(bundled, "_parse_work", interrupted_parse)
  with pytest.raises(KeyboardInterrupt):
    bundled.bundled_corpus_dir("bach", limit=2, verbose=False)
  folder = cache / "bundled" / "bach-first2"
  assert not (folder / "manifest.json").exists()
  assert len(list(folder.glob("*.mid"))) == 1
  assert not list(folder.glob(".*tmp*"))

  first = next(folder.glob("*.mid"))
  mtime = first.stat().st_mtime_ns
  del calls[:]
  assert bundled.bundled_corpus_dir("bach", limit=2, verbose=False) == folder
  assert len(calls) == 1  # only the missing work
  assert first.stat().st_mtime_ns == mtime
  assert len(list(folder.glob("*.mid"))) == 2
  assert bundled.read_manifest(folder)["failed"] == []
  assert not (folder / "in_progress.json").exists()


def test_stale_folder_without_manifest_is_converted_again(cache, parse_calls):
  folder = bundled.bundled_corpus_dir("bach", limit=1, verbose=False)
  (folder / "manifest.json").unlink()
  (folder / "stray.mid").write_bytes(b"not a midi file")
  del parse_calls[:]

  bundled.bundled_corpus_dir("bach", limit=1, verbose=False)

  assert len(parse_calls) == 1
  assert not (folder / "stray.mid").exists()
  assert corpus.load_corpus(folder).skipped == ()


def test_a_work_that_fails_is_skipped_and_reported(cache, monkeypatch):
  real_parse = bundled._parse_work
  sources = bundled.bundled_sources("bach")

  def failing_parse(path):
    if path == sources[0]:
      raise ValueError("badly formed repeats")
    return real_parse(path)

  monkeypatch.setattr(bundled, "_parse_work", failing_parse)
  with pytest.warns(UserWarning, match="1 of 2 works.*badly formed repeats"):
    folder = bundled.bundled_corpus_dir("bach", limit=2, verbose=False)

  manifest = bundled.read_manifest(folder)
  assert manifest["failed"] == [{"work": bundled.work_id(sources[0]),
                                 "reason": "ValueError: badly formed repeats"}]
  assert sorted(p.name for p in folder.glob("*.mid")) == [sources[1].stem + ".mid"]
  assert len(corpus.load_corpus(folder)) == 1


def test_unknown_name_and_bad_limit_are_refused(cache):
  with pytest.raises(ValueError, match="'beethoven', 'bach'"):
    bundled.bundled_corpus_dir("mozart")
  with pytest.raises(ValueError, match="'beethoven', 'bach'"):
    bundled.bundled_sources("mozart")
  for limit in (0, -1, 1.5, True):
    with pytest.raises(ValueError, match="positive integer"):
      bundled.bundled_corpus_dir("bach", limit=limit)
  assert not (cache / "bundled").exists()
