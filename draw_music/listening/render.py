"""Render MIDI files (or saved piano rolls) to WAV: piano sound, at the tempo the file says.

    python -m draw_music.listening.render IN [IN ...] --out_dir D [--sample_rate 22050]
        [--tempo_bpm 120] [--soundfont PATH]

Each IN is a MIDI file (`.mid` / `.midi`), a `.npy` piano roll (`[time, 128]`, played at
`--tempo_bpm`), or a folder searched recursively for both. Each input `X` becomes `D/X.wav`
(a folder's files keep their path below that folder, so equal names do not collide). The
synthesizer and SoundFont are described in `draw_music.listening.audio`. Exit status 2 with
one line for a missing input, an unreadable file, or no synthesizer.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np

from draw_music import cli
from draw_music.corpora import midi_io
from draw_music.listening import audio

_SUFFIXES = (".mid", ".midi", ".npy")


def collect_inputs(items):
  """`[(input_path, relative_output_stem)]` for files and folders (searched recursively).

  Raises:
    FileNotFoundError: an item does not exist, or a folder holds no MIDI or .npy file.
  """
  out = []
  for item in items:
    path = pathlib.Path(item)
    if path.is_dir():
      found = sorted(p for p in path.rglob("*") if p.suffix.lower() in _SUFFIXES)
      if not found:
        raise FileNotFoundError(f"{item}: no .mid, .midi or .npy file in this folder")
      out.extend((p, p.relative_to(path).with_suffix("")) for p in found)
    elif path.is_file():
      out.append((path, pathlib.Path(path.stem)))
    else:
      raise FileNotFoundError(f"{item}: no such file or folder")
  return out


def render_path(path, sample_rate=audio.DEFAULT_SAMPLE_RATE, tempo_bpm=120.0,
                soundfont=None):
  """`[samples, 2]` float32 audio of a MIDI file or a `.npy` `[time, 128]` piano roll."""
  path = pathlib.Path(path)
  if path.suffix.lower() == ".npy":
    roll = np.load(path)
    if roll.ndim != 2 or roll.shape[1] != midi_io.NUM_PITCHES:
      raise ValueError(f"{path}: a piano roll must have shape [time, 128], got {roll.shape}")
    return audio.render_roll(roll, tempo_bpm, sample_rate, soundfont)
  return audio.render_midi(path, sample_rate, soundfont)


def render_all(items, out_dir, sample_rate=audio.DEFAULT_SAMPLE_RATE, tempo_bpm=120.0,
               soundfont=None):
  """Renders every input of `items` into `out_dir`; returns the WAV paths."""
  out_dir = pathlib.Path(out_dir)
  paths = []
  for path, stem in collect_inputs(items):
    wav = out_dir / stem.with_suffix(".wav")
    audio.write_wav(render_path(path, sample_rate, tempo_bpm, soundfont), wav, sample_rate)
    paths.append(str(wav))
  return paths


def _parser():
  parser = cli.ArgumentParser(prog="python -m draw_music.listening.render",
                                   description="Render MIDI files or piano rolls to WAV.")
  parser.add_argument("inputs", nargs="+", metavar="IN",
                      help="MIDI files, .npy piano rolls, or folders of them")
  parser.add_argument("--out_dir", required=True, help="folder for the WAV files")
  parser.add_argument("--sample_rate", type=int, default=audio.DEFAULT_SAMPLE_RATE)
  parser.add_argument("--tempo_bpm", type=float, default=120.0,
                      help="tempo of .npy piano rolls (MIDI files keep their own)")
  parser.add_argument("--soundfont", default=None,
                      help="an .sf2 file (default: TimGM6mb.sf2 from pretty_midi)")
  return parser


def main(argv=None):
  args = _parser().parse_args(argv)
  for name in ("sample_rate", "tempo_bpm"):
    if getattr(args, name) <= 0:
      print(f"error: --{name} must be positive, got {getattr(args, name)}", file=sys.stderr)
      return 2
  start = time.perf_counter()
  try:
    paths = render_all(args.inputs, args.out_dir, args.sample_rate, args.tempo_bpm,
                       args.soundfont)
  except (OSError, ValueError, midi_io.MidiDecodeError,
          audio.SynthUnavailable) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  print(f"wrote {len(paths)} WAV files to {args.out_dir} in "
        f"{time.perf_counter() - start:.1f} s")
  return 0


if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(main())
