"""MIDI files <-> boolean piano rolls (DESIGN.md section 1).

A piano roll is a boolean array `[time, 128]`: one row per step of 1/8 of a beat (in score
time, so tempo changes do not move the grid), one column per MIDI pitch 0..127.

Reading rules, as DESIGN.md fixes them:
- all tracks and channels are merged, except percussion (channel 10, index 9);
- a note-on with velocity 0 is a note-off; a note-on for a pitch already sounding on the same
  track and channel ends the earlier note first; a note still sounding at the end of the
  file ends there;
- onset and offset are rounded to the nearest step (halves round up), and a note shorter
  than one step still fills one step;
- the roll runs from tick 0 to the end of the file (the last event of the longest track), so
  trailing silence is kept and `roll -> MIDI -> roll` gives the same roll back;
- type 0 and type 1 files are read; type 2 files are refused.

Every decoding failure, whatever its cause, raises `MidiDecodeError`, whose message names
the file and the reason.
"""

from __future__ import annotations

import os

import mido
import numpy as np

NUM_PITCHES = 128
STEPS_PER_BEAT = 8
PERCUSSION_CHANNEL = 9
# 100,000 steps = 12,500 beats (about 1 h 45 min at 120 bpm), a 12.8 MB roll. Longer files
# are almost always a corrupt or absurd delta time, and would exhaust memory.
DEFAULT_MAX_STEPS = 100_000
WRITE_TICKS_PER_BEAT = 480


class MidiDecodeError(Exception):
  """A MIDI file that cannot be turned into a piano roll; the message names file and reason."""

  def __init__(self, path, reason):
    self.path = str(path)
    self.reason = str(reason)
    super().__init__(f"{self.path}: {self.reason}")


def _tick_to_step(ticks, ticks_per_beat, steps_per_beat):
  """Nearest step for an array of ticks; exact halves round up."""
  return np.floor(np.asarray(ticks, np.float64) * steps_per_beat / ticks_per_beat + 0.5).astype(
      np.int64)


def _notes_of_track(track):
  """Notes of one track: ended notes as (on_tick, off_tick, pitch), the notes still sounding
  at the track's end as (on_tick, pitch), and the track's last tick."""
  notes = []
  sounding = {}  # (channel, pitch) -> onset tick
  tick = 0
  for msg in track:
    tick += msg.time
    if msg.type not in ("note_on", "note_off"):
      continue
    if msg.channel == PERCUSSION_CHANNEL:
      continue
    key = (msg.channel, msg.note)
    is_on = msg.type == "note_on" and msg.velocity > 0
    if key in sounding:
      notes.append((sounding.pop(key), tick, msg.note))
    if is_on:
      sounding[key] = tick
  hanging = [(onset, pitch) for (_, pitch), onset in sounding.items()]
  return notes, hanging, tick


def midi_to_roll(midi, steps_per_beat=STEPS_PER_BEAT, max_steps=DEFAULT_MAX_STEPS, name=None):
  """Piano roll of a parsed `mido.MidiFile`.

  Args:
    midi: a `mido.MidiFile` of type 0 or 1.
    steps_per_beat: grid resolution; DESIGN.md fixes 8 (one step = an eighth of a beat).
    max_steps: longest roll accepted; longer files raise `MidiDecodeError`.
    name: the file's name for error messages (default: `midi.filename`).

  Returns:
    `[time, 128]` bool array.

  Raises:
    MidiDecodeError: type 2 file, no notes, bad resolution, or longer than `max_steps`.
  """
  name = name or getattr(midi, "filename", None) or "<midi>"
  if midi.type == 2:
    raise MidiDecodeError(name, "type 2 MIDI files (independent sequences) are not supported")
  if midi.type not in (0, 1):
    raise MidiDecodeError(name, f"unknown MIDI file type {midi.type} (expected 0 or 1)")
  if midi.ticks_per_beat <= 0:
    raise MidiDecodeError(name, f"ticks_per_beat must be positive, got {midi.ticks_per_beat}"
                          " (SMPTE time division is not supported)")
  notes, hanging, end_tick = [], [], 0
  for track in midi.tracks:
    track_notes, track_hanging, track_end = _notes_of_track(track)
    notes.extend(track_notes)
    hanging.extend(track_hanging)
    end_tick = max(end_tick, track_end)
  # A note still sounding ends at the end of the file (the longest track), not of its track.
  notes.extend((onset, end_tick, pitch) for onset, pitch in hanging)
  if not notes:
    raise MidiDecodeError(name, "the file has no notes")
  on_tick, off_tick, pitch = (np.array(col, np.int64) for col in zip(*notes))
  onset = _tick_to_step(on_tick, midi.ticks_per_beat, steps_per_beat)
  offset = np.maximum(_tick_to_step(off_tick, midi.ticks_per_beat, steps_per_beat), onset + 1)
  length = max(int(offset.max()), int(_tick_to_step(end_tick, midi.ticks_per_beat,
                                                    steps_per_beat)))
  if length > max_steps:
    raise MidiDecodeError(name, f"the file is {length} steps long, more than max_steps="
                          f"{max_steps} (a huge delta time?)")
  # Difference array: +1 at each onset, -1 at each offset; overlapping notes form a union.
  diff = np.zeros((length + 1, NUM_PITCHES), np.int32)
  np.add.at(diff, (onset, pitch), 1)
  np.add.at(diff, (offset, pitch), -1)
  return np.cumsum(diff[:-1], axis=0) > 0


def read_midi(path, steps_per_beat=STEPS_PER_BEAT, max_steps=DEFAULT_MAX_STEPS):
  """Reads a MIDI file into a `[time, 128]` bool piano roll.

  Raises:
    MidiDecodeError: for every failure (unreadable, corrupt, truncated, type 2, no notes,
      too long), naming the file and the reason.
  """
  path = os.fspath(path)
  try:
    midi = mido.MidiFile(path)
  except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError, ...
    reason = str(e) or type(e).__name__
    if isinstance(e, EOFError):
      reason = "the file ends in the middle of a chunk (truncated or empty)"
    raise MidiDecodeError(path, f"cannot parse MIDI ({type(e).__name__}: {reason})") from e
  return midi_to_roll(midi, steps_per_beat, max_steps, name=path)


def roll_to_midi(roll, tempo_bpm=120.0, steps_per_beat=STEPS_PER_BEAT, velocity=80,
                 program=0):
  """A single-track piano MIDI file (`mido.MidiFile`, type 0) playing a piano roll.

  Args:
    roll: `[time, 128]` array; a cell is on where it is non-zero.
    tempo_bpm: tempo written into the file (beats per minute).
    steps_per_beat: steps of the roll per beat (8 in this project).
    velocity: note-on velocity, 1..127.
    program: General MIDI program (0 = acoustic grand piano).

  Each maximal run of on-cells of one pitch becomes one note. The end of track sits at the
  roll's last step, so `read_midi` gives back exactly the same roll (except for an all-silent
  roll: it is written, but `read_midi` refuses a file without notes).
  """
  roll = np.asarray(roll)
  if roll.ndim != 2 or roll.shape[1] != NUM_PITCHES:
    raise ValueError(f"roll must have shape [time, {NUM_PITCHES}], got {roll.shape}")
  if not 1 <= velocity <= 127:
    raise ValueError(f"velocity must be in 1..127, got {velocity}")
  if tempo_bpm <= 0:
    raise ValueError(f"tempo_bpm must be positive, got {tempo_bpm}")
  if steps_per_beat <= 0 or WRITE_TICKS_PER_BEAT % steps_per_beat:
    raise ValueError(f"steps_per_beat must divide {WRITE_TICKS_PER_BEAT}, got {steps_per_beat}")
  ticks_per_step = WRITE_TICKS_PER_BEAT // steps_per_beat
  on = roll != 0
  padded = np.zeros((on.shape[0] + 2, NUM_PITCHES), bool)
  padded[1:-1] = on
  change = padded[1:].astype(np.int8) - padded[:-1].astype(np.int8)  # [time + 1, 128]
  starts_t, starts_p = np.nonzero(change == 1)
  ends_t, ends_p = np.nonzero(change == -1)
  # (tick, kind, pitch): kind 0 = note_off, so offs sort before ons at the same tick.
  events = np.concatenate([
      np.stack([ends_t * ticks_per_step, np.zeros_like(ends_t), ends_p], 1),
      np.stack([starts_t * ticks_per_step, np.ones_like(starts_t), starts_p], 1),
  ]).reshape(-1, 3)
  events = events[np.lexsort((events[:, 2], events[:, 1], events[:, 0]))]

  track = mido.MidiTrack()
  track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
  track.append(mido.Message("program_change", program=program, channel=0, time=0))
  last = 0
  for tick, kind, pitch in events.tolist():
    track.append(mido.Message("note_on", note=pitch, velocity=velocity if kind else 0,
                              channel=0, time=tick - last))
    last = tick
  track.append(mido.MetaMessage("end_of_track", time=on.shape[0] * ticks_per_step - last))
  midi = mido.MidiFile(type=0, ticks_per_beat=WRITE_TICKS_PER_BEAT)
  midi.tracks.append(track)
  return midi


def write_midi(roll, path, tempo_bpm=120.0, steps_per_beat=STEPS_PER_BEAT, velocity=80):
  """Writes a `[time, 128]` piano roll as a single-track piano MIDI file at `path`."""
  path = os.fspath(path)
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  roll_to_midi(roll, tempo_bpm, steps_per_beat, velocity).save(path)
  return path
