"""Tests of draw_music.corpora.corpus: loading a folder of MIDI files, the cache, and chunks.

The messy corpus below holds good pieces in nested folders beside every kind of bad file;
each good piece has a hand-written expected roll (96 ticks per beat: 12 ticks a step).
"""


import mido
import numpy as np
import pytest

from draw_music.corpora import corpus

S = 12  # ticks per step at 96 ticks per beat


def _track(events, end):
  """A `mido.MidiTrack` from `(tick, text)` events in absolute ticks, ending at `end`."""
  track = mido.MidiTrack()
  last = 0
  for tick, text in sorted(events, key=lambda event: event[0]):
    track.append(mido.Message.from_str(f"{text} time={tick - last}"))
    last = tick
  track.append(mido.MetaMessage("end_of_track", time=end - last))
  return track


def _note(pitch, start, end, channel=0):
  """Note-on and note-off events of `pitch` from step `start` to step `end`."""
  return [(start * S, f"note_on channel={channel} note={pitch} velocity=90"),
          (end * S, f"note_off channel={channel} note={pitch} velocity=0")]


def _write(path, notes, length, midi_type=0):
  """Writes a one-track MIDI file of `notes` (`(pitch, start, end)` in steps), `length`
  steps long; returns the `[length, 128]` roll it should read as."""
  path.parent.mkdir(parents=True, exist_ok=True)
  events = [event for pitch, start, end in notes for event in _note(pitch, start, end)]
  midi = mido.MidiFile(type=midi_type, ticks_per_beat=96)
  midi.tracks.append(_track(events, length * S))
  midi.save(path)
  roll = np.zeros((length, 128), bool)
  for pitch, start, end in notes:
    roll[start:end, pitch] = True
  return roll


GOOD = {
    "a_first.mid": ([(60, 0, 4), (67, 2, 3)], 9),
    "sub/b_second.midi": ([(40, 1, 12)], 14),
    "sub/deeper/c_third.MID": ([(0, 0, 1), (127, 3, 5), (80, 4, 6)], 6),
    "z_last.mid": ([(72, 5, 6)], 30),
}

# Expected reason keyword of each bad file.
BAD = {
    "bad/empty.mid": "EOFError",
    "bad/huge_delta.mid": "max_steps",
    "bad/no_notes.mid": "no notes",
    "bad/random.mid": "MThd",
    "bad/truncated.mid": "cannot parse",
    "bad/type2.mid": "type 2",
    "bad/wrong_header.mid": "MThd",
}


def _write_bad(root):
  """Writes one file of each kind of garbage under `root/bad`."""
  bad = root / "bad"
  bad.mkdir(parents=True)
  _write(bad / "whole.tmp", [(60, 0, 8), (64, 2, 30)], 40)
  valid = (bad / "whole.tmp").read_bytes()
  (bad / "whole.tmp").unlink()
  (bad / "empty.mid").write_bytes(b"")
  (bad / "truncated.mid").write_bytes(valid[:len(valid) // 2])
  (bad / "wrong_header.mid").write_bytes(b"MTrk" + valid[4:])
  (bad / "random.mid").write_bytes(
      np.random.default_rng(0).integers(0, 256, 2000, np.uint8).tobytes())
  midi = mido.MidiFile(type=0, ticks_per_beat=96)
  midi.tracks.append(_track(_note(60, 0, 1) + [(0x0FFFFFFF, "note_on note=62 velocity=90")],
                            0x0FFFFFFF))
  midi.save(bad / "huge_delta.mid")
  midi = mido.MidiFile(type=0, ticks_per_beat=96)
  midi.tracks.append(_track([(0, "program_change program=3")], 100 * S))
  midi.save(bad / "no_notes.mid")
  midi = mido.MidiFile(type=2, ticks_per_beat=96)
  midi.tracks.append(_track(_note(60, 0, 2), 4 * S))
  midi.tracks.append(_track(_note(62, 0, 2), 4 * S))
  midi.save(bad / "type2.mid")


@pytest.fixture
def messy(tmp_path):
  """A corpus folder: good pieces in nested folders, every kind of bad file, and files and
  folders that are not MIDI files. Returns `(root, {name: expected roll})`."""
  root = tmp_path / "messy"
  expected = {name: _write(root / name, notes, length)
              for name, (notes, length) in GOOD.items()}
  _write_bad(root)
  (root / "readme.txt").write_text("not music")
  (root / "sub" / "notes.mid.txt").write_text("not music either")
  (root / "folder.mid").mkdir()  # a folder with a MIDI suffix is not a file
  return root, expected


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
  path = tmp_path / "cache"
  monkeypatch.setenv("DRAW_MUSIC_CACHE", str(path))
  return path


def _assert_rolls(actual, expected):
  assert len(actual) == len(expected)
  for a, e in zip(actual, expected):
    assert a.dtype == np.bool_
    assert a.shape == e.shape
    np.testing.assert_array_equal(a, e)


# --- loading ----------------------------------------------------------------------------


def test_load_corpus_keeps_every_good_piece_and_reports_every_bad_one(messy):
  root, expected = messy
  loaded = corpus.load_corpus(root, use_cache=False)
  assert loaded.root == str(root)
  assert loaded.names == tuple(GOOD)  # relative, sorted, upper-case suffix included
  assert len(loaded) == 4
  _assert_rolls(loaded.rolls, [expected[name] for name in GOOD])
  assert [path for path, _ in loaded.skipped] == list(BAD)
  for path, reason in loaded.skipped:
    assert BAD[path] in reason, (path, reason)
  assert not loaded.from_cache


def test_find_midi_files_is_recursive_sorted_and_skips_non_files(messy):
  root, _ = messy
  found = corpus.find_midi_files(root)
  assert [str(p.relative_to(root)) for p in found] == sorted(list(GOOD) + list(BAD))


def test_skipped_report_and_verbose_name_every_skipped_file(messy, capsys):
  root, _ = messy
  loaded = corpus.load_corpus(root, use_cache=False, verbose=True)
  report = loaded.skipped_report()
  assert report.startswith(f"skipped 7 of 11 files under {root}:")
  for path, reason in loaded.skipped:
    assert f"  {path}: {reason}" in report
  assert capsys.readouterr().err.strip() == report


def test_a_corpus_without_bad_files_has_an_empty_report(tmp_path, capsys):
  _write(tmp_path / "only.mid", [(60, 0, 1)], 2)
  loaded = corpus.load_corpus(tmp_path, use_cache=False, verbose=True)
  assert loaded.names == ("only.mid",)
  assert loaded.skipped == ()
  assert loaded.skipped_report() == ""
  assert capsys.readouterr().err == ""


def test_folder_of_bad_files_only_gives_an_empty_corpus(tmp_path):
  _write_bad(tmp_path)
  loaded = corpus.load_corpus(tmp_path, use_cache=False)
  assert len(loaded) == 0
  assert loaded.names == () and loaded.rolls == ()
  assert [path for path, _ in loaded.skipped] == list(BAD)


def test_empty_folder_gives_an_empty_corpus(tmp_path, cache_dir):
  loaded = corpus.load_corpus(tmp_path)
  assert (len(loaded), loaded.skipped) == (0, ())
  again = corpus.load_corpus(tmp_path)
  assert again.from_cache and len(again) == 0
  chunks, index = corpus.corpus_chunks(again.rolls)
  assert chunks.shape == (0, 104, 128) and index.shape == (0,)


def test_missing_folder_raises_naming_it(tmp_path):
  missing = tmp_path / "no_such_corpus"
  with pytest.raises(FileNotFoundError, match="no_such_corpus"):
    corpus.load_corpus(missing)


def test_a_file_is_not_a_corpus_folder(tmp_path):
  path = tmp_path / "piece.mid"
  _write(path, [(60, 0, 1)], 1)
  with pytest.raises(NotADirectoryError, match="piece.mid"):
    corpus.load_corpus(path)


# --- the cache --------------------------------------------------------------------------


def test_cache_root_is_the_environment_variable_or_the_home_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("DRAW_MUSIC_CACHE", str(tmp_path / "here"))
  assert corpus.cache_root() == tmp_path / "here"
  monkeypatch.delenv("DRAW_MUSIC_CACHE")
  monkeypatch.setenv("HOME", str(tmp_path / "home"))
  assert corpus.cache_root() == tmp_path / "home" / ".cache" / "draw_music"


def test_second_load_comes_from_the_cache_and_is_equal(messy, cache_dir):
  root, expected = messy
  first = corpus.load_corpus(root)
  assert not first.from_cache
  assert len(list(cache_dir.glob("corpora/*.npz"))) == 1
  second = corpus.load_corpus(root)
  assert second.from_cache
  assert second.root == str(root)
  assert second.names == first.names
  assert second.skipped == first.skipped
  assert all(isinstance(s, tuple) for s in second.skipped)
  _assert_rolls(second.rolls, [expected[name] for name in GOOD])
  assert len(list(cache_dir.glob("corpora/*.npz"))) == 1


def test_changing_a_file_invalidates_the_cache(messy, cache_dir):
  root, expected = messy
  corpus.load_corpus(root)
  assert corpus.load_corpus(root).from_cache
  # Same name, same length, other notes.
  changed = _write(root / "sub" / "b_second.midi", [(41, 1, 12)], 14)
  assert not np.array_equal(changed, expected["sub/b_second.midi"])
  reloaded = corpus.load_corpus(root)
  assert not reloaded.from_cache
  _assert_rolls(reloaded.rolls, [changed if name == "sub/b_second.midi" else expected[name]
                                 for name in GOOD])
  cached = corpus.load_corpus(root)
  assert cached.from_cache
  _assert_rolls(cached.rolls, reloaded.rolls)


def test_adding_removing_or_repairing_a_file_invalidates_the_cache(messy, cache_dir):
  root, expected = messy
  corpus.load_corpus(root)
  added = _write(root / "sub" / "added.mid", [(55, 2, 3)], 3)
  loaded = corpus.load_corpus(root)
  assert not loaded.from_cache
  assert loaded.names == ("a_first.mid", "sub/added.mid", "sub/b_second.midi",
                          "sub/deeper/c_third.MID", "z_last.mid")
  np.testing.assert_array_equal(loaded.rolls[1], added)
  (root / "a_first.mid").unlink()
  loaded = corpus.load_corpus(root)
  assert not loaded.from_cache
  assert loaded.names[0] == "sub/added.mid" and len(loaded) == 4
  repaired = _write(root / "bad" / "empty.mid", [(33, 0, 2)], 2)
  loaded = corpus.load_corpus(root)
  assert not loaded.from_cache
  assert loaded.names[0] == "bad/empty.mid"
  np.testing.assert_array_equal(loaded.rolls[0], repaired)
  assert "bad/empty.mid" not in [path for path, _ in loaded.skipped]
  assert len(loaded.skipped) == len(BAD) - 1


def test_renaming_a_file_invalidates_the_cache(messy, cache_dir):
  root, _ = messy
  corpus.load_corpus(root)
  (root / "z_last.mid").rename(root / "y_renamed.mid")
  loaded = corpus.load_corpus(root)
  assert not loaded.from_cache
  assert loaded.names[-1] == "y_renamed.mid"


def test_reading_settings_are_part_of_the_cache_key(messy, cache_dir):
  root, expected = messy
  corpus.load_corpus(root)
  coarse = corpus.load_corpus(root, steps_per_beat=4)
  assert not coarse.from_cache
  # Four steps a beat: the 9-step piece is 4.5 -> 5 steps, (60, 0, 4) -> (60, 0, 2),
  # (67, 2, 3) -> (67, 1, 2): ticks 24..36 are steps 1..1.5, and 1.5 rounds up to 2.
  first = np.zeros((5, 128), bool)
  first[0:2, 60] = True
  first[1:2, 67] = True
  np.testing.assert_array_equal(coarse.rolls[0], first)
  short = corpus.load_corpus(root, max_steps=13)
  assert not short.from_cache
  assert "sub/b_second.midi" not in short.names  # 14 steps: too long now
  assert "sub/b_second.midi" in [path for path, _ in short.skipped]
  assert corpus.load_corpus(root).from_cache


def test_a_corrupt_cache_entry_is_parsed_again(messy, cache_dir):
  root, expected = messy
  corpus.load_corpus(root)
  (entry,) = cache_dir.glob("corpora/*.npz")
  entry.write_bytes(b"not an npz file")
  loaded = corpus.load_corpus(root)
  assert not loaded.from_cache
  _assert_rolls(loaded.rolls, [expected[name] for name in GOOD])
  assert corpus.load_corpus(root).from_cache  # and the entry was written again


def test_use_cache_false_neither_reads_nor_writes_the_cache(messy, cache_dir):
  root, _ = messy
  assert not corpus.load_corpus(root, use_cache=False).from_cache
  assert not cache_dir.exists() or not list(cache_dir.rglob("*.npz"))
  corpus.load_corpus(root)
  assert not corpus.load_corpus(root, use_cache=False).from_cache


def test_cache_is_shared_by_identical_folders_but_reports_each_root(messy, cache_dir,
                                                                    tmp_path):
  root, _ = messy
  corpus.load_corpus(root)
  copy = tmp_path / "copy"
  for path in root.rglob("*"):
    if path.is_file():
      (copy / path.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
      (copy / path.relative_to(root)).write_bytes(path.read_bytes())
  loaded = corpus.load_corpus(copy)
  assert loaded.from_cache
  assert loaded.root == str(copy)


# --- chunks -----------------------------------------------------------------------------


def _roll_with_rows(length):
  """A roll whose every row is different: pitch `t % 120` at step `t`, plus pitch 127 at
  every step that is a multiple of 7."""
  roll = np.zeros((length, 128), bool)
  roll[np.arange(length), np.arange(length) % 120] = True
  roll[::7, 127] = True
  return roll


def test_chunks_are_104_steps_non_overlapping_and_drop_the_partial_one():
  roll = _roll_with_rows(104 * 3 + 103)
  chunks = corpus.chunk_roll(roll)
  assert chunks.shape == (3, 104, 128)
  assert chunks.dtype == np.bool_
  for i in range(3):
    np.testing.assert_array_equal(chunks[i], roll[104 * i:104 * (i + 1)])


def test_chunks_with_no_note_are_dropped_unless_asked():
  roll = np.zeros((104 * 4 + 10, 128), bool)
  roll[3, 50] = True                # chunk 0
  roll[104 * 2 + 103, 51] = True    # chunk 2, its last step
  roll[104 * 4 + 5, 52] = True      # the dropped partial chunk
  kept = corpus.chunk_roll(roll)
  assert kept.shape == (2, 104, 128)
  np.testing.assert_array_equal(kept[0], roll[0:104])
  np.testing.assert_array_equal(kept[1], roll[208:312])
  every = corpus.chunk_roll(roll, drop_empty=False)
  assert every.shape == (4, 104, 128)
  for i in range(4):
    np.testing.assert_array_equal(every[i], roll[104 * i:104 * (i + 1)])
  assert not every[1].any() and not every[3].any()


def test_stride_shorter_than_length_gives_overlapping_chunks():
  roll = _roll_with_rows(11)
  chunks = corpus.chunk_roll(roll, length=4, stride=3)
  # Starts 0, 3, 6; a chunk at 9 would need steps 9..12, past the end.
  assert chunks.shape == (3, 4, 128)
  for i, start in enumerate([0, 3, 6]):
    np.testing.assert_array_equal(chunks[i], roll[start:start + 4])
  longer = corpus.chunk_roll(roll, length=3, stride=5)  # gaps between chunks: 0, 5
  assert longer.shape == (2, 3, 128)
  np.testing.assert_array_equal(longer[1], roll[5:8])


def test_chunks_are_a_copy_of_the_roll():
  roll = _roll_with_rows(20)
  chunks = corpus.chunk_roll(roll, length=5, stride=2)
  chunks[:] = False
  np.testing.assert_array_equal(roll, _roll_with_rows(20))
  assert chunks.flags.c_contiguous and chunks.flags.writeable


def test_a_roll_shorter_than_a_chunk_has_no_chunk():
  chunks = corpus.chunk_roll(_roll_with_rows(103))
  assert chunks.shape == (0, 104, 128) and chunks.dtype == np.bool_
  assert corpus.chunk_roll(_roll_with_rows(104)).shape == (1, 104, 128)


@pytest.mark.parametrize("kwargs, match", [
    ({"length": 0}, "length"),
    ({"length": -3}, "length"),
    ({"length": 4, "stride": 0}, "stride"),
    ({"length": 4, "stride": -1}, "stride"),
])
def test_chunk_roll_rejects_a_non_positive_length_or_stride(kwargs, match):
  with pytest.raises(ValueError, match=match):
    corpus.chunk_roll(_roll_with_rows(20), **kwargs)


def test_corpus_chunks_concatenate_and_index_the_pieces():
  a = _roll_with_rows(25)                  # 2 chunks of 10
  b = np.zeros((40, 128), bool)            # empty: no chunk by default
  c = _roll_with_rows(9)                   # too short
  d = np.zeros((31, 128), bool)
  d[12, 5] = True                          # chunks 0 and 2 empty, chunk 1 kept
  chunks, index = corpus.corpus_chunks([a, b, c, d], length=10)
  assert chunks.shape == (3, 10, 128)
  assert index.dtype == np.int64
  np.testing.assert_array_equal(index, [0, 0, 3])
  np.testing.assert_array_equal(chunks[0], a[0:10])
  np.testing.assert_array_equal(chunks[1], a[10:20])
  np.testing.assert_array_equal(chunks[2], d[10:20])
  chunks, index = corpus.corpus_chunks([a, b, c, d], length=10, drop_empty=False)
  np.testing.assert_array_equal(index, [0, 0, 1, 1, 1, 1, 3, 3, 3])
  # Stride 5: a starts 0, 5, 10, 15; d starts 0..20, and only 5 and 10 hold its note.
  chunks, index = corpus.corpus_chunks([a, d], length=10, stride=5)
  np.testing.assert_array_equal(index, [0, 0, 0, 0, 1, 1])
  for i, start in enumerate([0, 5, 10, 15]):
    np.testing.assert_array_equal(chunks[i], a[start:start + 10])
  np.testing.assert_array_equal(chunks[4], d[5:15])
  np.testing.assert_array_equal(chunks[5], d[10:20])


def test_corpus_chunks_of_no_roll():
  chunks, index = corpus.corpus_chunks([])
  assert chunks.shape == (0, 104, 128) and chunks.dtype == np.bool_
  assert index.shape == (0,) and index.dtype == np.int64


# --- the real corpus --------------------------------------------------------------------


def test_real_beethoven_folder(beethoven_dir):
  loaded = corpus.load_corpus(beethoven_dir)
  assert len(loaded) == 29
  assert loaded.skipped == ()
  assert all(name.endswith(".mid") for name in loaded.names)
  assert list(loaded.names) == sorted(loaded.names)
  assert all(roll.dtype == np.bool_ and roll.shape[1] == 128 and roll.any()
             for roll in loaded.rolls)
  chunks, index = corpus.corpus_chunks(loaded.rolls)
  assert 1400 <= len(chunks) <= 1700
  assert chunks.shape[1:] == (104, 128)
  assert set(index.tolist()) == set(range(29))  # every piece gives at least one chunk
  assert chunks.reshape(len(chunks), -1).any(axis=1).all()
