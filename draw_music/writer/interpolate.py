"""Morph one piece into another through DRAW's latents: MIDI, audio and a strip picture.

    python -m draw_music.writer.interpolate --checkpoint RUN --from A.mid --to B.mid --steps 8
        [--method slerp|lerp] [--alpha 0.25] [--out_dir D]
    python -m draw_music.writer.interpolate --checkpoint RUN --corpus FOLDER --chunks 3,40 ...

Each end is one chunk of `chunk_steps` steps: the first non-silent chunk of a MIDI file
(`--from` / `--to`), or chunks number I and J of a corpus folder's chunks (`--corpus` with
`--chunks I,J`, as `corpus.corpus_chunks` numbers them). Both are encoded into their per-step
posterior means (`latent.encode`: `[num_steps, latent_dim]` each), the path between them is
`--steps` points (ends included) interpolated step by step (`latent.interpolate`: slerp by
default, lerp on request), and each point is decoded (`latent.decode_last`) and binarised at
`--alpha`. The ends are the model's own reconstructions of the two inputs (zero noise).

Writes under --out_dir: `interp_XX.mid` (+ `.wav` unless --no-audio or no synthesizer), one
picture `interpolation.png` of the whole path (the points side by side, each with its
position t), `interpolation.json` (the inputs, config, and each end's reconstruction
scores against its input), and `index.html`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

from draw_music import cli
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.corpora import midi_io
from draw_music.writer import generate
from draw_music.writer import postprocess


def reconstruction_scores(target, probabilities, alpha):
  """How well a decoded canvas matches its input.

  Args:
    target: `[time, pitch]` bool input.
    probabilities: `[time, pitch]` float decoded canvas in (0, 1).
    alpha: threshold of `postprocess.binarize`.

  Returns:
    dict: `bce` (binary cross-entropy summed over cells, the model's reconstruction loss)
    and `f1` of the binarised canvas against the input's active cells (1 when both are
    empty).
  """
  target = np.asarray(target, bool)
  p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
  bce = -np.sum(np.where(target, np.log(p), np.log(1 - p)))
  on = postprocess.binarize(probabilities, alpha)
  tp = np.sum(on & target)
  denom = on.sum() + target.sum()
  return {"bce": float(bce), "f1": float(2 * tp / denom) if denom else 1.0}


def first_chunk(path, chunk_steps):
  """The first non-silent `[chunk_steps, 128]` chunk of a MIDI file (padded if shorter)."""
  roll = midi_io.read_midi(path)
  chunks = corpus_lib.chunk_roll(roll, chunk_steps)
  if len(chunks):
    return chunks[0]
  padded = np.zeros((chunk_steps, roll.shape[1]), bool)
  padded[:min(len(roll), chunk_steps)] = roll[:chunk_steps]
  return padded


def interpolate_chunks(model, chunk_from, chunk_to, num, method="slerp", alpha=None):
  """Decoded path between two chunks.

  Args:
    model: a trained `DrawModel` (no attention).
    chunk_from: `[chunk_steps, 128]` bool.
    chunk_to: `[chunk_steps, 128]` bool.
    num: points on the path (ends included), >= 2.
    method: 'slerp' or 'lerp'.
    alpha: threshold (default the model's).

  Returns:
    dict: `t` `[num]`, `z` `[num, num_steps, latent_dim]`, `probabilities` `[num,
    chunk_steps, 128]` float32, `rolls` `[num, chunk_steps, 128]` bool.
  """
  from draw_music.writer import latent  # pylint: disable=g-import-not-at-top  (TensorFlow)
  alpha = model.config.alpha if alpha is None else alpha
  codes = latent.encode(model, np.stack([chunk_from, chunk_to]))
  z = latent.interpolate(codes[0], codes[1], num, method)
  probabilities = latent.decode_last(model, z)
  return {"t": np.linspace(0.0, 1.0, num), "z": z, "probabilities": probabilities,
          "rolls": generate.decode_for(model, probabilities, alpha)}


def _parser():
  parser = cli.ArgumentParser(prog="python -m draw_music.writer.interpolate",
                                   description="Interpolate between two pieces in DRAW's "
                                               "latent space.")
  parser.add_argument("--checkpoint", required=True, help="training folder")
  parser.add_argument("--from", dest="from_path", help="first MIDI file")
  parser.add_argument("--to", dest="to_path", help="last MIDI file")
  parser.add_argument("--corpus", help="a corpus folder, with --chunks I,J")
  parser.add_argument("--chunks", help="two chunk numbers of --corpus, e.g. 3,40")
  parser.add_argument("--steps", type=int, default=8, help="points on the path, ends included")
  parser.add_argument("--method", default="slerp", choices=["slerp", "lerp"])
  parser.add_argument("--alpha", type=float, default=None, help="threshold (default: the "
                      "model's)")
  parser.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                      help="render WAV files (default on)")
  parser.add_argument("--out_dir", default="out/interpolation", help="output folder")
  return parser


def _ends(args, chunk_steps):
  """The two end chunks and their description; raises ValueError naming the bad flag."""
  if args.corpus:
    if args.from_path or args.to_path:
      raise ValueError("give either --from/--to or --corpus/--chunks, not both")
    try:
      i, j = (int(x) for x in (args.chunks or "").split(","))
    except ValueError:
      raise ValueError(f"--chunks: expected two chunk numbers like 3,40, got "
                       f"{args.chunks!r}") from None
    corpus = corpus_lib.load_corpus(args.corpus)
    chunks, _ = corpus_lib.corpus_chunks(corpus.rolls, chunk_steps)
    for k in (i, j):
      if not 0 <= k < len(chunks):
        raise ValueError(f"--chunks: {k} is not a chunk number of {args.corpus} "
                         f"(0..{len(chunks) - 1})")
    return chunks[i], chunks[j], {"corpus": args.corpus, "chunks": [i, j]}
  if not (args.from_path and args.to_path):
    raise ValueError("give --from and --to (MIDI files), or --corpus and --chunks")
  return (first_chunk(args.from_path, chunk_steps), first_chunk(args.to_path, chunk_steps),
          {"from": args.from_path, "to": args.to_path})


def _describe(inputs):
  if "corpus" in inputs:
    i, j = inputs["chunks"]
    return f"chunk {i} to chunk {j} of {inputs['corpus']}"
  return f"{pathlib.Path(inputs['from']).name} to {pathlib.Path(inputs['to']).name}"


def main(argv=None):
  args = _parser().parse_args(argv)
  if args.steps < 2:
    print(f"error: --steps must be an integer >= 2, got {args.steps}", file=sys.stderr)
    return 2
  if args.alpha is not None and not 0 <= args.alpha <= 1:
    print(f"error: --alpha must be in [0, 1], got {args.alpha}", file=sys.stderr)
    return 2
  from draw_music import plotting  # pylint: disable=g-import-not-at-top
  from draw_music.listening import page  # pylint: disable=g-import-not-at-top
  from draw_music.writer import generate  # pylint: disable=g-import-not-at-top
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top  (TensorFlow)
  try:
    model, step = train.load_trained(args.checkpoint)
  except (OSError, ValueError) as e:  # no folder, no config.json, no readable checkpoint
    print(f"error: --checkpoint: {e}", file=sys.stderr)
    return 2
  if model.config.attention:
    print("error: --checkpoint: interpolation is written for DRAW without attention",
          file=sys.stderr)
    return 2
  try:
    chunk_from, chunk_to, inputs = _ends(args, model.config.chunk_steps)
  except (ValueError, FileNotFoundError, NotADirectoryError, midi_io.MidiDecodeError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  alpha = model.config.alpha if args.alpha is None else args.alpha
  path = interpolate_chunks(model, chunk_from, chunk_to, args.steps, args.method, alpha)
  out_dir = pathlib.Path(args.out_dir)
  paths = generate.write_pieces(path["rolls"], out_dir, prefix="interp")
  strip = out_dir / "interpolation.png"
  fig = plotting.plot_interpolation(path["rolls"], path["t"], strip,
                                    title=f"{args.method}: {_describe(inputs)} (model "
                                          f"at step {step})")
  plotting.plt.close(fig)
  ends = {"from": reconstruction_scores(chunk_from, path["probabilities"][0], alpha),
          "to": reconstruction_scores(chunk_to, path["probabilities"][-1], alpha)}
  config = {"checkpoint": args.checkpoint, "step": step, "steps": args.steps,
            "method": args.method, "alpha": alpha, **inputs}
  results.write_json(out_dir / "interpolation.json", {
      "run": results.run_info(config, None), "t": path["t"], "pieces": [str(p) for p in paths],
      "end_reconstruction": ends})
  page.publish(out_dir, paths, f"{args.method} interpolation, {args.steps} points",
               verdicts=[f"end 'from': reconstruction F1 {ends['from']['f1']:.2f}, BCE "
                         f"{ends['from']['bce']:.0f}", f"end 'to': reconstruction F1 "
                         f"{ends['to']['f1']:.2f}, BCE {ends['to']['bce']:.0f}"],
               config=config, histogram=strip, with_audio=args.audio)
  print(f"wrote {len(paths)} pieces (MIDI, PNG{', WAV' if args.audio else ''}), {strip} and "
        f"{out_dir / 'index.html'}; ends reconstructed with F1 {ends['from']['f1']:.2f} and "
        f"{ends['to']['f1']:.2f}")
  return 0


if __name__ == "__main__":
  cli.quiet_startup()  # before `main` imports TensorFlow
  sys.exit(main())
