"""Tests of draw_music.corpora.midi_io: MIDI files built from text messages, saved, re-read.

Every expected roll is written by hand, with lopsided fixtures (different pitches, lengths
and channels), so that a rule implemented the wrong way round changes the roll. At 96 ticks
per beat one step (1/8 of a beat) is 12 ticks; at 480 ticks per beat it is 60 ticks.
"""

import mido
import numpy as np
import pytest

from draw_music.corpora import midi_io
from draw_music.corpora.midi_io import MidiDecodeError


def _on(note, channel=0, velocity=90):
  return f"note_on channel={channel} note={note} velocity={velocity}"


def _off(note, channel=0, velocity=64):
  return f"note_off channel={channel} note={note} velocity={velocity}"


def _track(events, end=None):
  """A `mido.MidiTrack` from events in absolute ticks.

  Args:
    events: `(tick, message)` pairs; a message is a channel message in mido's text form
      without its time (`"note_on channel=0 note=60 velocity=90"`), or a `mido.MetaMessage`.
      Events at the same tick keep their order.
    end: tick of the end of track (default: the last event's tick).

  Returns:
    The track, with delta times.
  """
  track = mido.MidiTrack()
  last = 0
  for tick, msg in sorted(events, key=lambda event: event[0]):
    if isinstance(msg, str):
      msg = mido.Message.from_str(f"{msg} time={tick - last}")
    else:
      msg = msg.copy(time=tick - last)
    track.append(msg)
    last = tick
  end = last if end is None else end
  assert end >= last, "end of track before the last event"
  track.append(mido.MetaMessage("end_of_track", time=end - last))
  return track


def _save(path, tracks, ticks_per_beat=96, midi_type=1):
  """Saves `tracks` (a list of `mido.MidiTrack`) as a MIDI file; returns its path."""
  midi = mido.MidiFile(type=midi_type, ticks_per_beat=ticks_per_beat)
  midi.tracks.extend(tracks)
  midi.save(path)
  return path


def _expected(length, *notes):
  """A `[length, 128]` bool roll, with `pitch` on at steps `start <= t < end` for each
  `(pitch, start, end)` of `notes`."""
  roll = np.zeros((length, 128), bool)
  for pitch, start, end in notes:
    roll[start:end, pitch] = True
  return roll


def _assert_roll(actual, expected):
  assert actual.dtype == np.bool_
  assert actual.shape == expected.shape
  np.testing.assert_array_equal(actual, expected)


def _tempo(bpm):
  return mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))


# --- the grid ---------------------------------------------------------------------------


@pytest.mark.parametrize("ticks_per_beat", [96, 480])
def test_one_step_is_an_eighth_of_a_beat(tmp_path, ticks_per_beat):
  s = ticks_per_beat // 8  # ticks per step
  path = _save(tmp_path / "grid.mid", [_track([
      (0, _on(72)), (3 * s, _off(72)),            # steps 0..2
      (5 * s, _on(40)), (13 * s, _off(40)),       # steps 5..12: a whole beat and more
  ], end=16 * s)], ticks_per_beat)
  _assert_roll(midi_io.read_midi(path), _expected(16, (72, 0, 3), (40, 5, 13)))


def test_tempo_changes_do_not_move_the_grid(tmp_path):
  s = 12
  notes = [
      (0, _on(60)), (4 * s, _off(60)),
      (8 * s, _on(64)), (16 * s, _off(64)),
      (20 * s, _on(67)), (21 * s, _off(67)),
  ]
  tempos = [(0, _tempo(120)), (6 * s, _tempo(480)), (18 * s, _tempo(31))]
  expected = _expected(24, (60, 0, 4), (64, 8, 16), (67, 20, 21))
  type0 = _save(tmp_path / "type0.mid", [_track(tempos + notes, end=24 * s)], midi_type=0)
  conductor = _save(tmp_path / "type1.mid",
                    [_track(tempos), _track(notes, end=24 * s)])
  steady = _save(tmp_path / "steady.mid", [_track(notes, end=24 * s)], midi_type=0)
  _assert_roll(midi_io.read_midi(type0), expected)
  _assert_roll(midi_io.read_midi(conductor), expected)
  _assert_roll(midi_io.read_midi(steady), expected)


@pytest.mark.parametrize("ticks_per_beat", [96, 480])
def test_onset_and_offset_round_to_the_nearest_step_halves_up(tmp_path, ticks_per_beat):
  s = ticks_per_beat // 8
  half = s // 2
  path = _save(tmp_path / "round.mid", [_track([
      (half - 1, _on(50)), (2 * s + half, _off(50)),       # 0.4.. -> 0, 2.5 -> 3
      (half, _on(51)), (2 * s + half - 1, _off(51)),       # 0.5 -> 1, 2.4.. -> 2
      (s + half, _on(52)), (3 * s + half - 1, _off(52)),   # 1.5 -> 2, 3.4.. -> 3
      (s + half - 1, _on(53)), (3 * s + half, _off(53)),   # 1.4.. -> 1, 3.5 -> 4
      (5 * s + 1, _on(54)), (7 * s - 1, _off(54)),         # 5.0.. -> 5, 6.9.. -> 7
  ], end=8 * s + half)], ticks_per_beat)                   # 8.5 -> 9 steps long
  _assert_roll(midi_io.read_midi(path),
               _expected(9, (50, 0, 3), (51, 1, 2), (52, 2, 3), (53, 1, 4), (54, 5, 7)))


def test_end_of_file_rounds_to_the_nearest_step(tmp_path):
  # 100 ticks = 8.33 steps -> 8; the roll keeps the trailing silence after step 3.
  path = _save(tmp_path / "end.mid", [_track([(0, _on(60)), (36, _off(60))], end=100)])
  _assert_roll(midi_io.read_midi(path), _expected(8, (60, 0, 3)))


def test_roll_is_at_least_as_long_as_its_last_note(tmp_path):
  # A short note at the very end of the file still fills its step, past the end of track.
  path = _save(tmp_path / "tail.mid", [_track([
      (0, _on(30)), (12, _off(30)), (48, _on(31)), (50, _off(31))], end=50)])
  _assert_roll(midi_io.read_midi(path), _expected(5, (30, 0, 1), (31, 4, 5)))


def test_note_shorter_than_a_step_fills_one_step(tmp_path):
  path = _save(tmp_path / "short.mid", [_track([
      (24, _on(60)), (27, _off(60)),                  # 2 .. 2.25 -> rounds to nothing
      (60, _on(61)), (60, _off(61)),                  # zero length, at step 5
      (95, _on(62)), (101, _off(62)),                 # 7.9 -> 8 .. 8.4 -> 8
      (101, _on(63)), (101, "note_on channel=0 note=63 velocity=0"),
  ], end=12 * 12)])
  _assert_roll(midi_io.read_midi(path),
               _expected(12, (60, 2, 3), (61, 5, 6), (62, 8, 9), (63, 8, 9)))


# --- channels, tracks, note on/off ------------------------------------------------------


def test_all_channels_and_tracks_are_merged(tmp_path):
  s = 12
  path = _save(tmp_path / "merged.mid", [
      _track([(0, _on(60, channel=0)), (4 * s, _off(60, channel=0))]),
      _track([(2 * s, _on(62, channel=3)), (6 * s, _off(62, channel=3)),
              (7 * s, _on(90, channel=15)), (9 * s, _off(90, channel=15))]),
      # Same pitch as track 0, other track: the notes overlap and their union is kept.
      _track([(3 * s, _on(60, channel=0)), (8 * s, _off(60, channel=0))], end=10 * s),
  ])
  _assert_roll(midi_io.read_midi(path), _expected(10, (60, 0, 8), (62, 2, 6), (90, 7, 9)))


def test_percussion_channel_index_9_is_dropped(tmp_path):
  s = 12
  path = _save(tmp_path / "drums.mid", [_track([
      (0, _on(60, channel=0)),
      (1 * s, _on(36, channel=9)), (2 * s, _off(36, channel=9)),
      # A drum hit on the same pitch neither ends nor extends the piano note.
      (2 * s, _on(60, channel=9)), (3 * s, _off(60, channel=9)),
      (5 * s, _off(60, channel=0)),
      (6 * s, _on(60, channel=9)),                              # left open: still dropped
      # Channel index 10 (the 11th channel) is not percussion.
      (7 * s, _on(38, channel=10)), (9 * s, _off(38, channel=10)),
  ], end=11 * s)])
  _assert_roll(midi_io.read_midi(path), _expected(11, (60, 0, 5), (38, 7, 9)))


def test_only_percussion_is_a_file_without_notes(tmp_path):
  path = _save(tmp_path / "drums_only.mid", [_track([
      (0, _on(36, channel=9)), (12, _off(36, channel=9))], end=96)])
  with pytest.raises(MidiDecodeError, match="no notes") as err:
    midi_io.read_midi(path)
  assert str(path) in str(err.value)


def test_note_on_with_velocity_zero_is_a_note_off(tmp_path):
  s = 12
  path = _save(tmp_path / "vel0.mid", [_track([
      (0, _on(60)), (3 * s, "note_on channel=0 note=60 velocity=0"),
      (1 * s, _on(64)), (6 * s, _off(64)),
      # A velocity-0 note-on for a pitch that is not sounding starts nothing.
      (7 * s, "note_on channel=0 note=70 velocity=0"),
  ], end=10 * s)])
  _assert_roll(midi_io.read_midi(path), _expected(10, (60, 0, 3), (64, 1, 6)))


def test_note_on_for_a_sounding_pitch_ends_the_earlier_note(tmp_path):
  s = 12
  path = _save(tmp_path / "retrigger.mid", [_track([
      (0, _on(60)),
      (2 * s, _on(60)),   # ends the first note, starts a second one
      (4 * s, _off(60)),  # ends the second note
      (8 * s, _off(60)),  # nothing is sounding any more: ignored
  ], end=10 * s)])
  # Were notes stacked (each note-off ending one of two overlapping notes), the pitch
  # would sound until step 8.
  _assert_roll(midi_io.read_midi(path), _expected(10, (60, 0, 4)))


def test_note_on_on_another_channel_does_not_end_the_note(tmp_path):
  s = 12
  path = _save(tmp_path / "two_channels.mid", [_track([
      (0, _on(60, channel=0)),
      (2 * s, _on(60, channel=1)),
      (4 * s, _off(60, channel=0)),
      (8 * s, _off(60, channel=1)),
  ], end=10 * s)])
  _assert_roll(midi_io.read_midi(path), _expected(10, (60, 0, 8)))


def test_note_still_sounding_at_the_end_of_a_type0_file_ends_there(tmp_path):
  s = 12
  path = _save(tmp_path / "open.mid", [_track([
      (2 * s, _on(60)), (3 * s, _on(48)), (4 * s, _off(48))], end=7 * s)], midi_type=0)
  _assert_roll(midi_io.read_midi(path), _expected(7, (60, 2, 7), (48, 3, 4)))


def test_note_still_sounding_ends_at_the_end_of_the_file_not_of_its_track(tmp_path):
  s = 12
  path = _save(tmp_path / "open1.mid", [
      _track([(1 * s, _on(60))], end=3 * s),                     # short track, note open
      _track([(0, _on(50)), (2 * s, _off(50))], end=10 * s),     # the file ends at step 10
  ])
  _assert_roll(midi_io.read_midi(path), _expected(10, (60, 1, 10), (50, 0, 2)))


# --- file types -------------------------------------------------------------------------


def test_type0_and_type1_give_the_same_roll(tmp_path):
  s = 12
  melody = [(0, _on(76)), (3 * s, _off(76)), (3 * s, _on(74)), (5 * s, _off(74))]
  bass = [(0, _on(41, channel=1)), (8 * s, _off(41, channel=1))]
  expected = _expected(9, (76, 0, 3), (74, 3, 5), (41, 0, 8))
  type0 = _save(tmp_path / "t0.mid", [_track(melody + bass, end=9 * s)], midi_type=0)
  type1 = _save(tmp_path / "t1.mid", [_track(melody, end=9 * s), _track(bass)])
  assert mido.MidiFile(type0).type == 0
  assert mido.MidiFile(type1).type == 1
  _assert_roll(midi_io.read_midi(type0), expected)
  _assert_roll(midi_io.read_midi(type1), expected)


def test_type2_file_is_refused_naming_the_file(tmp_path):
  path = _save(tmp_path / "independent.mid", [
      _track([(0, _on(60)), (12, _off(60))]), _track([(0, _on(62)), (12, _off(62))])],
      midi_type=2)
  with pytest.raises(MidiDecodeError, match="type 2") as err:
    midi_io.read_midi(path)
  assert err.value.path == str(path)
  assert str(path) in str(err.value)


def test_midi_to_roll_reads_a_parsed_file_like_read_midi(tmp_path):
  path = _save(tmp_path / "parsed.mid", [_track([(0, _on(60)), (30, _off(60))], end=48)])
  midi = mido.MidiFile(path)
  _assert_roll(midi_io.midi_to_roll(midi), _expected(4, (60, 0, 3)))
  # Four steps a beat: 30 ticks = 1.25 steps -> 1, 48 ticks = 2 steps.
  _assert_roll(midi_io.midi_to_roll(midi, steps_per_beat=4), _expected(2, (60, 0, 1)))
  midi.type = 2
  with pytest.raises(MidiDecodeError, match="in-memory"):
    midi_io.midi_to_roll(midi, name="in-memory")


# --- decoding failures ------------------------------------------------------------------


def _valid_bytes(tmp_path):
  path = _save(tmp_path / "valid.mid", [
      _track([(0, _tempo(100)), (0, _on(60)), (96, _off(60)), (96, _on(67)), (200, _off(67))]),
      _track([(0, _on(43, channel=1)), (300, _off(43, channel=1))]),
  ])
  midi_io.read_midi(path)  # the file itself is fine
  return path.read_bytes()


def _assert_refused(path, match=None, **kwargs):
  """Checks that `read_midi(path, **kwargs)` raises a `MidiDecodeError` naming `path`."""
  with pytest.raises(MidiDecodeError, match=match) as err:
    midi_io.read_midi(path, **kwargs)
  assert err.value.path == str(path)
  assert str(path) in str(err.value)
  assert err.value.reason
  return err.value


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.2])
def test_truncated_file_is_refused(tmp_path, keep):
  data = _valid_bytes(tmp_path)
  path = tmp_path / "truncated.mid"
  path.write_bytes(data[:int(len(data) * keep)])
  _assert_refused(path, match="cannot parse")


def test_random_bytes_are_refused(tmp_path):
  path = tmp_path / "random.mid"
  path.write_bytes(np.random.default_rng(7).integers(0, 256, 3000, np.uint8).tobytes())
  _assert_refused(path, match="cannot parse")


def test_valid_header_followed_by_random_bytes_is_refused(tmp_path):
  data = _valid_bytes(tmp_path)
  path = tmp_path / "header_then_noise.mid"
  noise = np.random.default_rng(3).integers(0, 256, 3000, np.uint8).tobytes()
  path.write_bytes(data[:14] + noise)  # 14 bytes = the MThd chunk
  _assert_refused(path, match="cannot parse")


def test_wrong_header_is_refused(tmp_path):
  data = _valid_bytes(tmp_path)
  assert data[:4] == b"MThd"
  path = tmp_path / "wrong_header.mid"
  path.write_bytes(b"MTrk" + data[4:])
  _assert_refused(path, match="MThd")


def test_empty_file_is_refused(tmp_path):
  path = tmp_path / "empty.mid"
  path.write_bytes(b"")
  _assert_refused(path, match="cannot parse")


def test_file_without_notes_is_refused(tmp_path):
  path = _save(tmp_path / "silent.mid", [_track([
      (0, _tempo(90)), (0, "program_change channel=0 program=5"),
      (10, "control_change channel=0 control=64 value=127")], end=960)])
  _assert_refused(path, match="no notes")


@pytest.mark.parametrize("where", ["note", "end_of_track"])
def test_huge_delta_time_is_refused_as_too_long(tmp_path, where):
  huge = 0x0FFFFFFF  # the largest delta a MIDI file can hold
  if where == "note":
    track = _track([(0, _on(60)), (12, _off(60)), (12 + huge, _on(62)), (13 + huge, _off(62))])
  else:
    track = _track([(0, _on(60)), (12, _off(60))], end=12 + huge)
  path = _save(tmp_path / "huge.mid", [track])
  assert max(msg.time for msg in mido.MidiFile(path).tracks[0]) == huge  # mido kept it
  _assert_refused(path, match="max_steps")


def test_max_steps_is_the_longest_roll_accepted(tmp_path):
  path = _save(tmp_path / "twenty.mid", [_track([(0, _on(60)), (12, _off(60))], end=240)])
  assert midi_io.read_midi(path, max_steps=20).shape == (20, 128)
  err = _assert_refused(path, max_steps=19)
  assert "20 steps" in err.reason


@pytest.mark.parametrize("division", [b"\xe7\x28", b"\x00\x00"])
def test_smpte_or_zero_time_division_is_refused(tmp_path, division):
  data = bytearray(_valid_bytes(tmp_path))
  data[12:14] = division  # MThd: 4 name + 4 size + format, ntracks, division
  path = tmp_path / "division.mid"
  path.write_bytes(bytes(data))
  _assert_refused(path, match="ticks_per_beat")


def test_missing_file_is_a_decode_error(tmp_path):
  _assert_refused(tmp_path / "nowhere.mid")


# --- writing, and the round trip --------------------------------------------------------


def _lopsided_roll(length, seed):
  """A random roll of runs: many short notes low, a few long ones high, gaps of one step."""
  rng = np.random.default_rng(seed)
  roll = np.zeros((length, 128), bool)
  for pitch in rng.choice(np.arange(1, 127), 40, replace=False):
    t = int(rng.integers(0, 20))
    while t < length:
      run = int(rng.integers(1, 4 if pitch < 64 else 30))
      roll[t:t + run, pitch] = True
      t += run + int(rng.integers(1, 25))
  roll[0:1, 0] = True            # pitch 0, one step, at the start
  roll[5:9, 0] = True
  roll[length - 3:, 127] = True  # pitch 127 touching the end
  roll[10:12, 64] = True         # two notes of one pitch, one step apart
  roll[13:20, 64] = True
  return roll


@pytest.mark.parametrize("tempo_bpm", [120.0, 61.0])
def test_roll_to_midi_to_roll_is_the_identity(tmp_path, tempo_bpm):
  roll = _lopsided_roll(237, seed=1)
  path = midi_io.write_midi(roll, tmp_path / "roundtrip.mid", tempo_bpm=tempo_bpm)
  _assert_roll(midi_io.read_midi(path), roll)


def test_round_trip_keeps_leading_and_trailing_silence(tmp_path):
  roll = np.zeros((150, 128), bool)
  roll[17:40, 0] = True
  roll[30:31, 127] = True
  roll[35:101, 55] = True
  roll[100:102, 56] = True   # the last note ends at step 102: 48 silent steps follow
  path = midi_io.write_midi(roll, tmp_path / "silence.mid")
  _assert_roll(midi_io.read_midi(path), roll)


def test_round_trip_of_a_real_piece(tmp_path, beethoven_dir):
  roll = midi_io.read_midi(beethoven_dir / "elise.mid")
  assert roll.any()
  path = midi_io.write_midi(roll, tmp_path / "elise_again.mid")
  _assert_roll(midi_io.read_midi(path), roll)


def test_written_file_is_one_piano_track_at_the_stated_tempo(tmp_path):
  roll = np.zeros((16, 128), bool)
  roll[0:4, 60] = True
  roll[2:3, 64] = True
  roll[5:8, 60] = True
  path = midi_io.write_midi(roll, tmp_path / "deep" / "er" / "out.mid", tempo_bpm=75.0,
                            velocity=99)
  assert path == str(tmp_path / "deep" / "er" / "out.mid")
  midi = mido.MidiFile(path)
  assert midi.type == 0
  assert len(midi.tracks) == 1
  assert midi.ticks_per_beat == midi_io.WRITE_TICKS_PER_BEAT
  tempos = [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"]
  assert tempos == [mido.bpm2tempo(75.0)]
  programs = [(m.channel, m.program) for m in midi.tracks[0] if m.type == "program_change"]
  assert programs == [(0, 0)]
  tick, notes = 0, []
  for msg in midi.tracks[0]:
    tick += msg.time
    if msg.type in ("note_on", "note_off"):
      notes.append((tick, msg.note, msg.velocity))
  ticks_per_step = midi_io.WRITE_TICKS_PER_BEAT // 8
  assert notes == [
      (0, 60, 99), (2 * ticks_per_step, 64, 99), (3 * ticks_per_step, 64, 0),
      (4 * ticks_per_step, 60, 0), (5 * ticks_per_step, 60, 99), (8 * ticks_per_step, 60, 0)]
  assert tick == 16 * ticks_per_step  # the end of track sits at the roll's end


def test_any_nonzero_cell_is_a_note(tmp_path):
  roll = np.zeros((6, 128), np.float32)
  roll[1:3, 70] = 0.25
  roll[2:5, 20] = -1.0
  path = midi_io.write_midi(roll, tmp_path / "float.mid")
  _assert_roll(midi_io.read_midi(path), _expected(6, (70, 1, 3), (20, 2, 5)))


@pytest.mark.parametrize("kwargs, match", [
    ({"roll": np.zeros((10, 127), bool)}, "shape"),
    ({"roll": np.zeros((128,), bool)}, "shape"),
    ({"velocity": 0}, "velocity"),
    ({"velocity": 128}, "velocity"),
    ({"tempo_bpm": 0.0}, "tempo_bpm"),
])
def test_roll_to_midi_rejects_bad_arguments(kwargs, match):
  args = {"roll": np.ones((4, 128), bool), **kwargs}
  with pytest.raises(ValueError, match=match):
    midi_io.roll_to_midi(**args)
