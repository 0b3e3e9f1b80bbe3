"""Times audio rendering and long-piece generation; records it in BENCHMARKS.md.

  python -m benchmarks.bench_listen [--checkpoint out/i10_model]

Timed (median of several runs after one warm-up run):
- rendering 100 generated pieces (one chunk, 13 beats, each) from their MIDI files to WAV
  files (`audio.render_files`: parse, synthesize at 22,050 Hz, write), goal under 10 s;
- generating one 64-beat piece (`generate.generate_long`, 64 candidates per seam: the
  latent draws, decoding, binarising and choosing at the 4 seams), goal under 1 s; once
  per seam method (`generate.SEAM_METHODS`; 'overlap' draws for 8 half-chunk joins).
With `--checkpoint`, the pieces come from that trained model; without, from an untrained
baseline model (the same work: the time does not depend on the weights). How the seam
windows of such pieces score is experiments/seam_continuity.py's job (REPRODUCTION.md).

Writes (or replaces) the "## Listening: audio rendering and long pieces" section of
BENCHMARKS.md at the repository root.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys
import tempfile

from benchmarks import common

REPO = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS_FILE = REPO / "BENCHMARKS.md"
SECTION = "## Listening: audio rendering and long pieces"
RENDER_GOAL_S = 10.0
LONG_GOAL_S = 1.0



def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_listen")
  parser.add_argument("--checkpoint", default=None, help="a training folder (optional)")
  parser.add_argument("--render_runs", type=int, default=3)
  parser.add_argument("--long_runs", type=int, default=7)
  args = parser.parse_args(argv)
  from draw_music.listening import audio  # pylint: disable=g-import-not-at-top
  from draw_music.writer import generate  # pylint: disable=g-import-not-at-top
  from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top
  ok, why = audio.audio_or_reason()
  if not ok:
    print(f"error: {why}", file=sys.stderr)
    return 2
  if args.checkpoint:
    model, step = train.load_trained(args.checkpoint)
    source = f"`{args.checkpoint}` (trained {step} steps)"
  else:
    model = model_lib.DrawModel(model_lib.get_config("baseline"), seed=0)
    model.build()
    source = "an untrained baseline model"
  load_before = common.load_average()
  with tempfile.TemporaryDirectory() as tmp:
    _, rolls = generate.generate_rolls(model, 100, model.config.alpha, 0)
    paths = generate.write_pieces(rolls, tmp, pictures=False)
    render_median, render_times = common.median_time(lambda: audio.render_files(paths),
                                                     args.render_runs)
    seconds_of_audio = sum(audio.read_wav(p.replace(".mid", ".wav"))[0].shape[0]
                           for p in paths) / audio.DEFAULT_SAMPLE_RATE
  long = {}
  for method in generate.SEAM_METHODS:
    long[method] = common.median_time(
        lambda m=method: generate.generate_long(model, 1, 64, model.config.alpha, 0,
                                                method=m), args.long_runs)
  draws = {m: generate.num_draws(64 * generate.STEPS_PER_BEAT, model.config.chunk_steps, m)
           for m in generate.SEAM_METHODS}
  load_after = common.load_average()
  fmt = lambda ts: ", ".join(f"{t:.3f}" for t in ts)
  met = lambda m, goal: f"{'met' if m < goal else 'NOT met'} ({m:.3f} s)"
  lines = [
      SECTION, "",
      f"Command: `python -m benchmarks.bench_listen"
      f"{' --checkpoint ' + args.checkpoint if args.checkpoint else ''}`  ",
      f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ",
      f"Machine: {common.machine_line()}; load average (1 / 5 / 15 min) before: "
      f"{load_before}, after: {load_after}  ",
      f"Pieces from {source}; synthesizer TinySoundFont with TimGM6mb.sf2 (piano), "
      f"{audio.DEFAULT_SAMPLE_RATE} Hz stereo", "",
      "Median of the runs after one warm-up run; every run's time in the last column:", "",
      "| step | median s | runs s |", "| --- | ---: | --- |",
      f"| 100 pieces of 13 beats, MIDI -> WAV files ({seconds_of_audio:.0f} s of audio) | "
      f"{render_median:.3f} | {fmt(render_times)} |",
      *[f"| one 64-beat piece, generate_long, --seam_method {m} (64 candidates x "
        f"{draws[m]} {'joins' if m == 'overlap' else 'seams'}, --texture "
        f"{generate.DEFAULT_TEXTURE}) | {t[0]:.3f} | {fmt(t[1])} |"
        for m, t in long.items()], "",
      f"Goals: 100 pieces to WAV under {RENDER_GOAL_S:.0f} s: "
      f"{met(render_median, RENDER_GOAL_S)}; a 64-beat piece under {LONG_GOAL_S:.0f} s: "
      + "; ".join(f"{m} {met(t[0], LONG_GOAL_S)}" for m, t in long.items())
      + ". Other agents' processes share this machine: the load average says how busy it "
      "was.",
  ]
  common.write_section(BENCHMARKS_FILE, lines)
  print("\n".join(lines))
  return 0


if __name__ == "__main__":
  sys.exit(main())
