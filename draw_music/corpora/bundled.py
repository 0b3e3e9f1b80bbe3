"""The bundled corpora: works that ship inside `music21`, converted once to MIDI (DESIGN.md 2).

They work on a fresh machine, offline, right after `pip install`: `music21` carries its corpus
inside the package. `bundled_corpus_dir(name)` converts the works of one bundled corpus to
MIDI files in a cache folder the first time it is called, and returns that folder at once
afterwards; the folder is then read by `draw_music.corpora.corpus.load_corpus` like any
other corpus.

The corpora (`BUNDLED_NAMES`):
- "beethoven": every Beethoven work in music21's corpus (string quartets, and the Grosse
  Fuge op. 133): 22 works in music21 10.5.1. The four movements of op. 18 no. 1 exist both
  as `.mxl` and as `.krn`; each work is taken once, in its `.mxl` form. All parts of a work
  are merged into one roll.
- "bach": the Bach chorales, every `bach/bwv*.mxl` file in music21's corpus except
  `bwv846` (a prelude of the Well-Tempered Clavier, the only one that is no chorale): 407
  files in music21 10.5.1, in sorted path order. No subset is taken: all of them convert in
  about 20 s. A few are near-duplicates (two versions of one chorale, e.g. `bwv248.23-2`
  and `bwv248.23-s`), as in the corpus itself; the `.xml`/`.krn` copies and the
  Riemenschneider roman-numeral analyses are not taken.

Conversion (`score_to_roll`). music21's own MIDI writer is not used (minutes a work, and it
fails on some; DESIGN.md section 2). Each work is parsed, and its notes are read directly:
- time is score time: one quarter note = one beat = 8 steps, whatever the metre or tempo;
  onset and end (offset + duration, in quarter lengths) are rounded to the nearest step,
  halves up, as `midi_io` rounds ticks; a note shorter than one step fills one step;
- grace notes (zero duration) are dropped: music21 puts a grace note at the onset of the
  note it ornaments, so a step for it would sound a wrong pitch over that note's onset;
- rests, unpitched notes and chord symbols / roman numerals (annotations, not notes) are
  ignored; a chord gives all its pitches; tied notes join into one run of steps;
- parts in written pitch (transposing instruments) and transposing ottavas are moved to
  sounding pitch first;
- repeats are not expanded; the roll runs to the end of the score (trailing rests kept);
- the MIDI file is written with `midi_io.write_midi` (one piano track, 120 bpm: the tempo
  of the score is not kept, and does not matter to the grid).

Cache. The files of corpus `name` go to `cache_root() / "bundled" / name`, one
`<work>.mid` per work (for example `opus18no1_movement1.mid`), each written to a temporary
name and then renamed, so a file that exists is whole. `manifest.json` is written last; it
holds the list of works, the files written, the works that failed and why, the `music21`
version and `FORMAT_VERSION`. A folder without a manifest that matches the current
settings is not trusted: an interrupted conversion (its settings are kept in
`in_progress.json`) is completed on the next call, keeping the files already written;
anything else (another music21 version, another format version) is converted again from
scratch. A limited conversion (`limit=N`, for tests) goes to `<name>-first<N>`, so it is
never taken for the full corpus.

A work that fails to parse (or has no note) is skipped, never fatal: it is reported in the
progress lines, in a warning, and in the manifest (`read_manifest(folder)["failed"]`).
The warnings music21 gives while parsing a work that converts (an overfull measure, ...)
are kept in the manifest (`["warnings"]`) and counted in the progress line.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time
import warnings

import music21
from music21 import chord
from music21 import common
from music21 import converter
from music21 import harmony
from music21 import note
from music21 import spanner
from music21 import stream
import numpy as np

from draw_music.corpora import corpus
from draw_music.corpora import midi_io

BUNDLED_NAMES = ("beethoven", "bach")
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
IN_PROGRESS_NAME = "in_progress.json"
# Source formats in order of preference when one work exists in several.
_SOURCE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn")
_BACH_NOT_CHORALES = ("bwv846",)


def music21_corpus_root():
  """The folder of music21's bundled corpus (inside the installed package)."""
  return pathlib.Path(common.getCorpusFilePath())


def _check_name(name):
  if name not in BUNDLED_NAMES:
    raise ValueError(f"unknown bundled corpus {name!r}; expected one of "
                     f"{', '.join(repr(n) for n in BUNDLED_NAMES)}")


def bundled_sources(name):
  """The source files of a bundled corpus, in music21's corpus, in conversion order.

  Args:
    name: one of `BUNDLED_NAMES`.

  Returns:
    A list of `pathlib.Path`, one per work, sorted by path.

  Raises:
    ValueError: `name` is not a bundled corpus.
  """
  _check_name(name)
  root = music21_corpus_root()
  if name == "beethoven":
    by_work = {}  # path without suffix -> preferred source file
    for path in (root / "beethoven").rglob("*"):
      suffix = path.suffix.lower()
      if suffix not in _SOURCE_SUFFIXES or not path.is_file():
        continue
      stem = path.with_suffix("")
      best = by_work.get(stem)
      if best is None or (_SOURCE_SUFFIXES.index(suffix)
                          < _SOURCE_SUFFIXES.index(best.suffix.lower())):
        by_work[stem] = path
    return sorted(by_work.values())
  return sorted(p for p in (root / "bach").glob("bwv*.mxl")
                if p.is_file() and p.stem not in _BACH_NOT_CHORALES)


def work_id(path):
  """`"beethoven/opus18no1/movement1"` for a source file of music21's corpus."""
  return pathlib.Path(path).relative_to(music21_corpus_root()).with_suffix("").as_posix()


def _midi_name(work):
  """`"opus18no1_movement1.mid"` for work id `"beethoven/opus18no1/movement1"`."""
  return "_".join(work.split("/")[1:]) + ".mid"


def _needs_sounding_pitch(score):
  """Whether some part is in written pitch, or some ottava transposes its notes."""
  if any(s.atSoundingPitch is False
         for s in score.recurse(streamsOnly=True, includeSelf=True)):
    return True
  return any(o.transposing for o in score[spanner.Ottava])


def score_to_roll(score, steps_per_beat=midi_io.STEPS_PER_BEAT):
  """The piano roll of a music21 stream (a score, a part, or any stream of notes).

  Every note and chord of every part is taken, with its offset in the whole stream; one
  quarter note is one beat of `steps_per_beat` steps. The rules (rounding, grace notes,
  rests, transposition) are in the module docstring. The stream is not modified.

  Args:
    score: a `music21.stream.Stream`.
    steps_per_beat: steps per quarter note (8 in this project).

  Returns:
    `[time, 128]` bool piano roll, `time` = the end of the last note or of the stream
    (its `highestTime`), whichever is later; it has no active cell if the stream has no
    note.
  """
  if _needs_sounding_pitch(score):
    score = score.toSoundingPitch(inPlace=False)
  flat = score.flatten()
  starts, ends, pitches = [], [], []
  for element in flat.notes:
    if isinstance(element, harmony.Harmony):  # chord symbols, roman numerals
      continue
    if isinstance(element, note.Note):
      midi_pitches = [element.pitch.midi]
    elif isinstance(element, chord.Chord):
      midi_pitches = [p.midi for p in element.pitches]
    else:  # unpitched notes, percussion chords
      continue
    quarter_length = float(element.duration.quarterLength)
    if quarter_length <= 0:  # grace note
      continue
    start = float(flat.elementOffset(element))
    for pitch in midi_pitches:
      starts.append(start)
      ends.append(start + quarter_length)
      pitches.append(pitch)
  # Nearest step, halves up, as midi_io rounds ticks.
  onset = np.floor(np.array(starts, np.float64) * steps_per_beat + 0.5).astype(np.int64)
  offset = np.floor(np.array(ends, np.float64) * steps_per_beat + 0.5).astype(np.int64)
  offset = np.maximum(offset, onset + 1)
  pitch = np.array(pitches, np.int64)
  length = int(np.floor(float(score.highestTime) * steps_per_beat + 0.5))
  if len(offset):
    length = max(length, int(offset.max()))
  # Difference array: +1 at each onset, -1 at each end; overlapping notes form a union.
  diff = np.zeros((length + 1, midi_io.NUM_PITCHES), np.int32)
  np.add.at(diff, (onset, pitch), 1)
  np.add.at(diff, (offset, pitch), -1)
  return np.cumsum(diff[:-1], axis=0) > 0


def _parse_work(path):
  """Parses one source file; from the source every time, writing no pickle."""
  return converter.parse(path, forceSource=True, storePickle=False)


def _convert_work(source, out_path):
  """Parses `source` and writes its roll to `out_path` (atomically); returns the roll."""
  score = _parse_work(source)
  if isinstance(score, stream.Opus):
    raise ValueError(f"the file holds {len(score.scores)} scores (an opus), not one work")
  roll = score_to_roll(score)
  if not roll.any():
    raise ValueError("the work has no notes")
  tmp = out_path.with_name(f".{out_path.name}.tmp{os.getpid()}")
  try:
    midi_io.write_midi(roll, tmp)
    os.replace(tmp, out_path)  # atomic: a file named *.mid is always whole
  finally:
    tmp.unlink(missing_ok=True)
  return roll


def _write_json(path, data):
  tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
  tmp.write_text(json.dumps(data, indent=1) + "\n")
  os.replace(tmp, path)


def read_manifest(folder):
  """The manifest of a bundled corpus folder as a dict, or None if missing or unreadable.

  Keys: `format_version`, `music21_version`, `name`, `limit`, `works` (work ids, in order),
  `files` (work id -> MIDI file name, for the converted works), `failed` (a list of
  `{"work", "reason"}`), `warnings` (work id -> the warnings music21 gave while parsing
  it, for example an overfull measure), `seconds` (conversion time, this run only).
  """
  try:
    return json.loads((pathlib.Path(folder) / MANIFEST_NAME).read_text())
  except (OSError, ValueError):
    return None


def _settings(name, limit, works):
  """What a folder's files depend on; a manifest or progress file must match it."""
  return {"format_version": FORMAT_VERSION, "music21_version": music21.__version__,
          "name": name, "limit": limit, "works": works}


def _matches(data, settings):
  return isinstance(data, dict) and all(data.get(k) == v for k, v in settings.items())


def _is_complete(folder, manifest, settings):
  return (_matches(manifest, settings)
          and all((folder / f).is_file() for f in manifest.get("files", {}).values()))


def bundled_corpus_dir(name="beethoven", limit=None, verbose=True):
  """The folder of MIDI files of a bundled corpus, converting it on first use only.

  Args:
    name: one of `BUNDLED_NAMES`.
    limit: convert only the first `limit` works (in `bundled_sources` order), into a
      folder of its own (`<name>-first<limit>`); None for all. A limit at least the number
      of works is the full corpus.
    verbose: print one progress line per converted work to stderr.

  Returns:
    `pathlib.Path` of the folder, to pass to `corpus.load_corpus`.

  Raises:
    ValueError: unknown `name`, or `limit` not a positive integer.
  """
  _check_name(name)
  if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                            or limit <= 0):
    raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
  sources = bundled_sources(name)
  if limit is not None and limit >= len(sources):
    limit = None
  if limit is not None:
    sources = sources[:limit]
  folder = corpus.cache_root() / "bundled" / (name if limit is None else
                                              f"{name}-first{limit}")
  works = [work_id(s) for s in sources]
  settings = _settings(name, limit, works)
  if _is_complete(folder, read_manifest(folder), settings):
    return folder
  _convert(folder, sources, settings, verbose)
  return folder


def _convert(folder, sources, settings, verbose):
  """Converts the works into `folder`, resuming an interrupted run with the same settings."""
  folder.mkdir(parents=True, exist_ok=True)
  manifest_path = folder / MANIFEST_NAME
  progress_path = folder / IN_PROGRESS_NAME
  previous = read_manifest(folder)
  if not _matches(previous, settings):
    try:
      previous = json.loads(progress_path.read_text())
    except (OSError, ValueError):
      previous = None
  resume = _matches(previous, settings)
  manifest_path.unlink(missing_ok=True)
  if not resume:  # files of other settings, or of unknown origin: convert all again
    for stale in folder.glob("*.mid"):
      stale.unlink()
  _write_json(progress_path, settings)

  name, works = settings["name"], settings["works"]
  if verbose:
    print(f"converting the bundled {name!r} corpus ({len(works)} works from music21 "
          f"{music21.__version__}) into {folder}; this happens once", file=sys.stderr,
          flush=True)
  files, failed, parse_warnings = {}, [], {}
  kept_warnings = previous.get("warnings", {}) if resume else {}
  begin = time.perf_counter()
  for i, (source, work) in enumerate(zip(sources, works)):
    out_path = folder / _midi_name(work)
    prefix = f"[{i + 1}/{len(works)}]"
    if resume and out_path.is_file():
      files[work] = out_path.name
      if work in kept_warnings:
        parse_warnings[work] = kept_warnings[work]
      if verbose:
        print(f"{prefix} {work} already converted", file=sys.stderr, flush=True)
      continue
    if verbose:
      print(f"{prefix} converting {work} ...", end="", file=sys.stderr, flush=True)
    start = time.perf_counter()
    # music21's warnings (an overfull measure, ...) go to the manifest, not over the line.
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter("always")
      try:
        _convert_work(source, out_path)
        reason = None
      except Exception as e:  # music21 raises many types; a bad work never stops the rest
        reason = f"{type(e).__name__}: {e}"
    if caught:
      parse_warnings[work] = [str(w.message) for w in caught]
    if reason is not None:
      failed.append({"work": work, "reason": reason})
      if verbose:
        print(f" FAILED ({reason})", file=sys.stderr, flush=True)
      continue
    files[work] = out_path.name
    if verbose:
      extra = f" ({len(caught)} music21 warning{'s' * (len(caught) > 1)})" if caught else ""
      print(f" {time.perf_counter() - start:.1f} s{extra}", file=sys.stderr, flush=True)
  seconds = time.perf_counter() - begin
  _write_json(manifest_path, {**settings, "files": files, "failed": failed,
                              "warnings": parse_warnings, "seconds": round(seconds, 1)})
  progress_path.unlink(missing_ok=True)
  if verbose:
    print(f"converted {len(files)} of {len(works)} works in {seconds:.1f} s",
          file=sys.stderr, flush=True)
  if failed:
    warnings.warn(f"bundled corpus {name!r}: {len(failed)} of {len(works)} works could not "
                  "be converted and are left out: "
                  + "; ".join(f"{f['work']} ({f['reason']})" for f in failed), stacklevel=3)
