"""Piano rolls and MIDI files -> audio (WAV), with a SoundFont synthesizer, offline.

The synthesizer is TinySoundFont (the `tinysoundfont` wheel, MIT licence), playing the General
MIDI SoundFont `TimGM6mb.sf2` that ships inside the `pretty_midi` package (the SoundFont is
Tim Brechbill's, GPL-2; see README "Listening"). Nothing is downloaded: both come from `pip`.

Rules:
- Every note of every channel except percussion (channel 10, index 9, as `midi_io` reads
  rolls) plays on General MIDI program 0, the acoustic grand piano, with its own velocity;
  program changes are ignored, so every piece sounds as a piano.
- Times come from the MIDI file's own tempo map (`mido` turns ticks into seconds with every
  `set_tempo`), so a file plays at the tempo it says. A piano roll has no tempo: it is
  written with `midi_io.roll_to_midi` at `tempo_bpm` (default 120, the tempo `generate`
  writes into its MIDI files; one step = 1/8 beat = 62.5 ms) and rendered from that.
- After the last event, `tail_s` seconds (default 1.0) of release are kept.
- Output: float32 `[samples, 2]` stereo in [-1, 1] (clipped), written as 16-bit PCM WAV.

If `tinysoundfont` is not installed or the SoundFont cannot be found or loaded,
`SynthUnavailable` is raised with a message saying what is missing and how to install it;
callers that only add audio to other work (`generate --audio`, the training report, the
pages) print that message once and carry on without audio (`audio_or_reason`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pathlib
import wave

import mido
import numpy as np

from draw_music.corpora import midi_io

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_TAIL_S = 1.0
DEFAULT_GAIN_DB = 6.0
_FLUSH_SAMPLES = 4096
PIANO_PROGRAM = 0
INSTALL_HINT = ("install it with `pip install --no-deps -r requirements-audio.txt` "
                "(tinysoundfont) and `pip install -r requirements.txt` (pretty_midi, which "
                "ships the SoundFont)")


class SynthUnavailable(RuntimeError):
  """The SoundFont synthesizer cannot be loaded; the message says what is missing."""


def default_soundfont():
  """Path of the General MIDI SoundFont `TimGM6mb.sf2` inside the installed `pretty_midi`.

  Raises:
    SynthUnavailable: `pretty_midi` is not installed or has no SoundFont.
  """
  spec = importlib.util.find_spec("pretty_midi")
  if spec is None or not spec.submodule_search_locations:
    raise SynthUnavailable(f"no SoundFont: the pretty_midi package is not installed; "
                           f"{INSTALL_HINT}")
  path = pathlib.Path(list(spec.submodule_search_locations)[0]) / "TimGM6mb.sf2"
  if not path.is_file():
    raise SynthUnavailable(f"no SoundFont: {path} is missing from the pretty_midi package")
  return str(path)


def _import_tinysoundfont():
  try:
    import tinysoundfont  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise SynthUnavailable(f"no synthesizer: cannot import tinysoundfont ({e}); "
                           f"{INSTALL_HINT}") from e
  return tinysoundfont


@functools.lru_cache(maxsize=4)
def _soundfont_bytes(path):
  try:
    return pathlib.Path(path).read_bytes()
  except OSError as e:
    raise SynthUnavailable(f"cannot read the SoundFont {path}: {e}") from e


@functools.lru_cache(maxsize=4)
def _synth(path, sample_rate, gain_db):
  """A loaded synthesizer, every channel but percussion on the piano (cached: loading the
  SoundFont takes about 50 ms, longer than rendering a 13-beat piece)."""
  tsf = _import_tinysoundfont()
  synth = tsf.Synth(gain=gain_db, samplerate=sample_rate)
  try:
    sfid = synth.sfload(_soundfont_bytes(path))
    for channel in range(16):
      if channel != midi_io.PERCUSSION_CHANNEL:
        synth.program_select(channel, sfid, 0, PIANO_PROGRAM)
  except Exception as e:  # tinysoundfont raises SoundFontException / RuntimeError
    raise SynthUnavailable(f"cannot load the SoundFont {path}: {e}") from e
  return synth


def check_available(soundfont=None):
  """Raises `SynthUnavailable` unless a synthesizer and its SoundFont load; returns the path."""
  path = soundfont or default_soundfont()
  _synth(path, DEFAULT_SAMPLE_RATE, DEFAULT_GAIN_DB)
  return path


def audio_or_reason(soundfont=None):
  """`(True, soundfont_path)` when audio can be rendered, else `(False, message)`."""
  try:
    return True, check_available(soundfont)
  except SynthUnavailable as e:
    return False, str(e)


def midi_events(midi):
  """Note events of a `mido.MidiFile` in seconds, by its tempo map.

  Args:
    midi: a parsed `mido.MidiFile` (type 0 or 1).

  Returns:
    `[k, 4]` float64 array of `(time_s, channel, pitch, velocity)` rows in time order,
    velocity 0 for a note-off; percussion (channel index 9) left out. And the file's
    length in seconds (`midi.length`, the last event of any kind).
  """
  if midi.type == 2:
    raise ValueError("type 2 MIDI files (independent sequences) cannot be rendered")
  rows = []
  now = 0.0
  for msg in midi:  # merged tracks; msg.time is the delta in seconds
    now += msg.time
    if msg.type not in ("note_on", "note_off") or msg.channel == midi_io.PERCUSSION_CHANNEL:
      continue
    velocity = msg.velocity if msg.type == "note_on" else 0
    rows.append((now, msg.channel, msg.note, velocity))
  return np.asarray(rows, np.float64).reshape(-1, 4), now


def render_midi(midi, sample_rate=DEFAULT_SAMPLE_RATE, soundfont=None, tail_s=DEFAULT_TAIL_S,
                gain_db=DEFAULT_GAIN_DB):
  """Renders a MIDI file as piano audio.

  Args:
    midi: a `mido.MidiFile` or the path of a MIDI file.
    sample_rate: samples per second.
    soundfont: path of an .sf2 file (default: `default_soundfont()`).
    tail_s: seconds kept after the last event, for the notes' release.
    gain_db: synthesizer gain in dB (+6: TimGM6mb's piano is quiet; louder output is
      clipped to [-1, 1]).

  Returns:
    `[samples, 2]` float32 stereo audio in [-1, 1], `samples = round((length + tail_s) *
    sample_rate)` where `length` is the file's length in seconds.

  Raises:
    SynthUnavailable: no synthesizer or SoundFont.
    midi_io.MidiDecodeError: `midi` is a path that cannot be parsed.
  """
  if not isinstance(midi, mido.MidiFile):
    path = os.fspath(midi)
    try:
      midi = mido.MidiFile(path)
    except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError, ...
      raise midi_io.MidiDecodeError(path, f"cannot parse MIDI ({type(e).__name__}: {e})") from e
  if sample_rate <= 0:
    raise ValueError(f"sample_rate must be positive, got {sample_rate}")
  synth = _synth(soundfont or default_soundfont(), int(sample_rate), float(gain_db))
  # A cached synthesizer: cut what an earlier render left sounding, and run the cut's short
  # fade out into a discarded buffer, so that every render starts from silence.
  synth.sounds_off()
  synth.generate_simple(_FLUSH_SAMPLES)
  events, length = midi_events(midi)
  total = int(round((length + tail_s) * sample_rate))
  out = np.zeros((total, 2), np.float32)
  buffer = memoryview(out.reshape(-1).view(np.uint8))
  done = 0
  frame_bytes = 2 * 4
  event_samples = np.minimum(np.round(events[:, 0] * sample_rate).astype(np.int64), total)
  for i, (_, channel, pitch, velocity) in enumerate(events):
    at = int(event_samples[i])
    if at > done:
      synth.generate_simple(at - done, buffer[done * frame_bytes:at * frame_bytes])
      done = at
    if velocity > 0:
      synth.noteon(int(channel), int(pitch), int(velocity))
    else:
      synth.noteoff(int(channel), int(pitch))
  if total > done:
    synth.generate_simple(total - done, buffer[done * frame_bytes:total * frame_bytes])
  return np.clip(out, -1.0, 1.0)


def render_roll(roll, tempo_bpm=120.0, sample_rate=DEFAULT_SAMPLE_RATE, soundfont=None,
                tail_s=DEFAULT_TAIL_S, velocity=80):
  """Renders a `[time, 128]` piano roll (bool or 0/1) as piano audio at `tempo_bpm`.

  The roll is written as MIDI exactly as `generate` writes it (`midi_io.roll_to_midi`,
  one step = 1/8 beat), then rendered with `render_midi`; returns `[samples, 2]` float32.
  """
  return render_midi(midi_io.roll_to_midi(roll, tempo_bpm, velocity=velocity), sample_rate,
                     soundfont, tail_s)


def write_wav(audio, path, sample_rate=DEFAULT_SAMPLE_RATE):
  """Writes `[samples, channels]` float audio in [-1, 1] as 16-bit PCM WAV; returns the path."""
  audio = np.asarray(audio, np.float32)
  if audio.ndim == 1:
    audio = audio[:, None]
  if audio.ndim != 2:
    raise ValueError(f"audio must be [samples, channels], got shape {audio.shape}")
  pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
  path = os.fspath(path)
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  with wave.open(path, "wb") as f:
    f.setnchannels(audio.shape[1])
    f.setsampwidth(2)
    f.setframerate(int(sample_rate))
    f.writeframes(pcm.tobytes())
  return path


def read_wav(path):
  """`([samples, channels] float32 in [-1, 1], sample_rate)` of a 16-bit PCM WAV file."""
  with wave.open(os.fspath(path), "rb") as f:
    channels, rate, frames = f.getnchannels(), f.getframerate(), f.getnframes()
    if f.getsampwidth() != 2:
      raise ValueError(f"{path}: only 16-bit PCM WAV is read, got {8 * f.getsampwidth()}-bit")
    data = np.frombuffer(f.readframes(frames), "<i2")
  return data.reshape(-1, channels).astype(np.float32) / 32767.0, rate


def midi_to_wav(midi_path, wav_path, sample_rate=DEFAULT_SAMPLE_RATE, soundfont=None):
  """Renders the MIDI file `midi_path` into `wav_path`; returns `wav_path`."""
  return write_wav(render_midi(midi_path, sample_rate, soundfont), wav_path, sample_rate)


def render_files(midi_paths, sample_rate=DEFAULT_SAMPLE_RATE, soundfont=None):
  """Writes `X.wav` beside each `X.mid`; returns the WAV paths (raises `SynthUnavailable`)."""
  out = []
  for p in midi_paths:
    wav = str(pathlib.Path(p).with_suffix(".wav"))
    out.append(midi_to_wav(p, wav, sample_rate, soundfont))
  return out


def try_render_files(midi_paths, sample_rate=DEFAULT_SAMPLE_RATE, soundfont=None, log=print):
  """`render_files`, or, when no synthesizer loads, one message via `log` and `[]`."""
  ok, why = audio_or_reason(soundfont)
  if not ok:
    log(f"audio skipped: {why}")
    return []
  return render_files(midi_paths, sample_rate, soundfont)
