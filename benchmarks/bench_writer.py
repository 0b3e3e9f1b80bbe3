r"""The writer against the paper's baseline: quality after the same minutes of training.

    python -m benchmarks.bench_writer [--corpus ../shared/data/beethoven_piano] \
        [--variants baseline,writer] [--marks 5,10,30] [--seeds 0,1,2] \
        [--num_pieces 500] [--out_dir out/bench_writer] [--out BENCHMARKS.md]
    python -m benchmarks.bench_writer --ablation --marks 10     # each lever alone

Each variant is a named config (`model.CONFIGS`) with optional overrides: `VARIANTS` below
names the ones this script knows (the ablation's levers, each alone on top of the
baseline). For every mark (minutes of training time, the clock stopped while scoring), seed
and variant, the model trains on (resuming its folder under --out_dir; variants that differ
only in how a canvas becomes notes share one training folder), then `--num_pieces` pieces
come straight from the sampler (seed = the training seed) through the variant's own decoder,
with no selection, and are scored against the corpus (the judgement's calibration and permutations use
--judge_seed, 0, for every record):
- the paper's per-piece distance: reference = every corpus chunk; the paper's Welch t-test
  of the generated distances against the corpus chunks' own;
- the set-level judgement (`evaluate.set_level_report`, reference = every corpus chunk,
  calibrated once on piece-level halves): Fréchet distance and its bound, diversity ratio
  and its range, verdict, the five largest KS statistics; for each feature set given to
  --feature_sets (the first is the paper's 17).
Every record is appended to `bench_writer.json` under --out_dir as soon as it is measured
(rerunning skips the records already there), and the section of --out is rewritten after
each one, so a run killed mid-way keeps what it measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import pathlib
import sys
import time


from benchmarks import common
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import evaluate
from draw_music.metric import features
from draw_music.metric import measure
from draw_music.metric import set_measures
from draw_music.writer import generate
from draw_music.writer import model as model_lib
from draw_music.writer import report
from draw_music.writer import train

SECTIONS = {False: "## The writer against the baseline: quality after the same minutes",
            True: "## Ablation: each lever of the writer alone on top of the baseline"}

# Checkpoint selection as measured: 15% of the chunks held out, a score every 200 steps.
SELECTION = {"holdout": 0.15, "select_every": 200, "select_pieces": 500}
# The paper's constant learning rate, which the writer recipe kept until it halved its rate
# (every variant measured before the recipe sampled from a fitted prior draws z ~ N(0, I)).
CONSTANT_RATE = {"lr_half_life": 0, "lr_decay_start": 0, "prior": "standard",
                 "temperature": 1.0}
# The paper's z ~ N(0, I), which the writer recipe sampled from until it fitted its prior
# (and then at temperature 1 until it took a lower one).
STANDARD_PRIOR = {"prior": "standard", "temperature": 1.0}
# name: (config name, overrides). The ablation runs them all.
VARIANTS = {
    "baseline": ("baseline", {}),
    "+bfloat16": ("baseline", {"compute_dtype": "bfloat16"}),
    "+note decoder": ("baseline", {f: getattr(model_lib.WRITER, f) for f in (
        "decoder", "hold", "min_note_steps", "bridge_steps", "grid_steps", "density")}),
    "+note decoder with corpus lengths": ("baseline", {f: getattr(model_lib.WRITER, f) for f in (
        "decoder", "hold", "min_note_steps", "bridge_steps", "grid_steps", "density",
        "durations")}),
    "+note decoder with pitch peaks": ("baseline", {f: getattr(model_lib.WRITER, f) for f in (
        "decoder", "hold", "min_note_steps", "bridge_steps", "grid_steps", "density",
        "pitch_peaks")}),
    "+beat windows": ("baseline", {"offset_grid": 8}),
    "+transposition": ("baseline", {"offset_grid": 104, "transpose": 5}),
    "+checkpoint selection": ("baseline", SELECTION),
    "+fitted prior": ("baseline", {"prior": "fitted"}),
    "+temperature": ("baseline", {"temperature": model_lib.WRITER.temperature}),
    "writer": ("writer", {}),
    # The recipe before its learning rate halved after 2,500 steps: the paper's constant rate
    # (records of "writer" measured before then carry this name; the "(one hold)" variants
    # below were all measured with it).
    "writer (constant rate)": ("writer", CONSTANT_RATE),
    # ... and before its decoder chose each piece's hold level by the corpus's note lengths
    # ("(one hold)").
    "writer (one hold)": ("writer", {**CONSTANT_RATE, "durations": "model"}),
    "writer (one hold) + checkpoint selection": ("writer", {**CONSTANT_RATE, **SELECTION,
                                                            "durations": "model"}),
    # ... and before it put onsets off the grid.
    "writer (one hold; onsets on the grid)": ("writer", {**CONSTANT_RATE, "durations": "model",
                                                         "odd_onsets": "none"}),
    "writer (one hold; onsets on the grid) + checkpoint selection": (
        "writer", {**CONSTANT_RATE, **SELECTION, "durations": "model", "odd_onsets": "none"}),
    # ... and before it read only the canvas's peaks along pitch (`pitch_peaks`).
    "writer (without pitch peaks)": ("writer", {**STANDARD_PRIOR, "pitch_peaks": False}),
    # ... and before it drew each piece's code from a Gaussian fitted to the training chunks'
    # codes (`prior`): z ~ N(0, I), as the paper (records of "writer + fitted prior" are the
    # recipe with it, measured before it took it).
    "writer (standard prior)": ("writer", STANDARD_PRIOR),
    "writer + fitted prior": ("writer", {"prior": "fitted", "temperature": 1.0}),
    # ... and before it drew the codes at a temperature below 1 (`temperature`): the fitted
    # prior itself.
    "writer (untempered)": ("writer", {"temperature": 1.0}),
    # The other temperatures the recipe's 0.7 was chosen among (benchmarks/bench_draws.py).
    "writer at temperature 0.85": ("writer", {"temperature": 0.85}),
    "writer at temperature 0.55": ("writer", {"temperature": 0.55}),
    # The learning rate halving every 1,500 steps from the first step (tried before the
    # recipe's delayed halving: as good at 30 minutes, worse at 5).
    "writer + lr half-life 1500": ("writer", {**STANDARD_PRIOR, "lr_half_life": 1500,
                                              "lr_decay_start": 0}),
    # A learning rate that halves every 3,000 steps, for long runs.
    "writer (one hold) + lr half-life 3000": ("writer", {**STANDARD_PRIOR, "lr_half_life": 3000,
                                                         "lr_decay_start": 0,
                                                         "durations": "model"}),
    # Transposition alone for long runs: the paper's chunks, each transposed by up to 5
    # semitones when drawn.
    "writer (one hold) + transposition": ("writer", {**CONSTANT_RATE, "offset_grid": 104,
                                                     "transpose": 5, "durations": "model"}),
    # Data variety for long runs: windows on every beat, each transposed by up to 5 semitones.
    "writer (one hold; onsets on the grid) + data variety": (
        "writer", {**CONSTANT_RATE, "offset_grid": 8, "transpose": 5, "durations": "model",
                   "odd_onsets": "none"}),
}
ABLATION = tuple(v for v in VARIANTS if v == "writer" or not v.startswith("writer"))


def variant_config(name):
  if name not in VARIANTS:
    raise ValueError(f"unknown variant {name!r}; expected one of {sorted(VARIANTS)}")
  base, overrides = VARIANTS[name]
  return dataclasses.replace(model_lib.get_config(base), **overrides)


def decode_as(model, config, run=None, step=None):
  """Makes `model` decode as `config` does: its decoding fields (`train.DECODING_FIELDS`)
  replace the model's, the training fields stay the folder's own, and the reference draw
  its decoder ranks against is made again. Where `config` samples from a fitted prior, the
  one fitted for `step` in the training folder `run` (`train.attach_latent_prior`; a
  ValueError where there is none); else from N(0, I)."""
  model.config = dataclasses.replace(
      model.config, **{f: getattr(config, f) for f in train.DECODING_FIELDS})
  model.reference_draw = None
  if config.prior == "fitted":
    if run is None:
      raise ValueError("decoding with a fitted prior needs the training folder and step")
    train.attach_latent_prior(model, run, step)
  else:
    model.set_latent_prior(None)


def training_key(config):
  """A folder name that is the same for configs that train identically."""
  fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in train.DECODING_FIELDS}
  default = dataclasses.asdict(model_lib.DrawConfig())
  changed = [f"{k}={v}" for k, v in sorted(fields.items()) if default[k] != v]
  return "train_" + ("_".join(changed) or "paper")


def top_ks(set_level, k=5):
  ks = sorted(set_level["ks"], key=lambda r: -r["statistic"])[:k]
  return [{"feature": r["feature"], "statistic": float(r["statistic"])} for r in ks]


def score(model, config, num_pieces, seed, judge, judge_seed=0):
  """Pieces straight from the sampler, scored; `judge` holds the corpus's references."""
  start = time.perf_counter()
  _, rolls = generate.generate_rolls(model, num_pieces, config.alpha, seed)
  record = {"silent_pieces": int((rolls.reshape(len(rolls), -1).sum(1) == 0).sum()),
            "active_cells_mean": float(rolls.sum(axis=(1, 2)).mean())}
  for feature_set, ref in judge.items():
    sigs = features.signatures(rolls, feature_set)
    out = {}
    if feature_set == features.DEFAULT_FEATURE_SET:
      d = ref["reference"].distance(sigs)
      out["distance"] = evaluate.summarize(d)
      out["t_test"] = report.welch_t_test(d, ref["corpus_distances"])
    s = evaluate.set_level_report(ref["sigs"], ref["piece_index"], sigs, ref["names"],
                                  seed=judge_seed, calibration=ref["calibration"])
    out["set_level"] = {k: s.get(k) for k in ("frechet", "p_value", "diversity_ratio",
                                               "verdict", "reason", "bound_view", "test")}
    out["set_level"]["thresholds"] = s["thresholds"]
    out["set_level"]["top_ks"] = top_ks(s)
    record[feature_set] = out
  record["scoring_seconds"] = time.perf_counter() - start
  return record


def build_judge(chunks, piece_index, feature_sets, seed):
  judge = {}
  for feature_set in feature_sets:
    names = features.feature_names(feature_set)
    sigs = features.signatures(chunks, feature_set)
    reference = measure.Reference.from_signatures(sigs, names)
    judge[feature_set] = {
        "names": names, "sigs": sigs, "piece_index": piece_index, "reference": reference,
        "corpus_distances": reference.distance(sigs),
        "calibration": set_measures.calibrate(sigs, piece_index, 10, seed, 200)}
  return judge


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_writer")
  parser.add_argument("--corpus", default="../shared/data/beethoven_piano")
  parser.add_argument("--variants", default="baseline,writer",
                      help=f"comma list of {sorted(VARIANTS)}")
  parser.add_argument("--ablation", action="store_true",
                      help="every lever alone: --variants " + ",".join(ABLATION))
  parser.add_argument("--marks", default="5,10,30", help="minutes of training, comma list")
  parser.add_argument("--seeds", default="0,1,2", help="training seeds, comma list")
  parser.add_argument("--num_pieces", type=int, default=500)
  parser.add_argument("--feature_sets", default=features.DEFAULT_FEATURE_SET,
                      help="feature sets of the set-level judgement, comma list")
  parser.add_argument("--judge_seed", type=int, default=0,
                      help="seed of the judgement's calibration splits and permutations "
                           "(fixed, so that every record is judged alike)")
  parser.add_argument("--out_dir", default="out/bench_writer")
  parser.add_argument("--out", default="BENCHMARKS.md")
  parser.add_argument("--section", default=None,
                      help="heading of the section of --out to write (default: the writer's "
                           "or, with --ablation, the ablation's), for records kept apart")
  parser.add_argument("--section_only", action="store_true",
                      help="train and score nothing: rewrite the section of --out from the "
                           "records already in bench_writer.json (those of --variants)")
  args = parser.parse_args(argv)
  variants = ABLATION if args.ablation else tuple(args.variants.split(","))
  marks = sorted(float(m) for m in args.marks.split(","))
  seeds = [int(s) for s in args.seeds.split(",")]
  feature_sets = args.feature_sets.split(",")
  configs = {v: variant_config(v) for v in variants}  # unknown names fail here
  for feature_set in feature_sets:
    features.feature_names(feature_set)

  out_dir = pathlib.Path(args.out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  json_path = out_dir / "bench_writer.json"
  state = json.loads(json_path.read_text()) if json_path.exists() else {"records": []}
  state["run"] = results.run_info({"corpus": args.corpus, "marks": marks, "seeds": seeds,
                                   "num_pieces": args.num_pieces,
                                   "feature_sets": feature_sets,
                                   "variants": {v: dataclasses.asdict(c)
                                                for v, c in configs.items()}}, seeds[0])
  command = common.command_line("benchmarks.bench_writer")
  state.setdefault("commands", [])
  if command not in state["commands"]:
    state["commands"].append(command)
  # Records judged with another calibration seed are judged again (no training needed).
  state["records"] = [r for r in state["records"]
                      if r.get("judge_seed", r["seed"]) == args.judge_seed]
  done = {(r["variant"], r["seed"], r["minutes"]) for r in state["records"]}
  if args.section_only:
    write_section(args, state, feature_sets, variants)
    print(f"rewrote the section of {args.out} from {json_path}")
    return 0

  corpus = corpus_lib.load_corpus(args.corpus)
  chunks, piece_index = corpus_lib.corpus_chunks(corpus.rolls, 104)
  print(f"{len(corpus)} pieces, {len(chunks)} chunks; calibrating the judgement", flush=True)
  judge = build_judge(chunks, piece_index, feature_sets, args.judge_seed)

  for minutes in marks:
    for seed in seeds:
      for variant, config in configs.items():
        if (variant, seed, minutes) in done:
          continue
        folder = out_dir / f"{training_key(config)}_seed{seed}"
        print(f"[{variant}, seed {seed}] training to {minutes:g} min in {folder}", flush=True)
        # A shared folder resumes with this variant's decoding fields (`train.DECODING_FIELDS`
        # may change on resume), so the model loaded below decodes as this variant does.
        summary = train.train(config, chunks, piece_index, folder,
                              train.TrainConfig(time_budget_s=60 * minutes,
                                                checkpoint_every=200, seed=seed,
                                                verbose=False),
                              rolls=corpus.rolls, piece_names=corpus.names)
        model, step = train.load_trained(folder)  # the selected weights, where it selects
        record = {"variant": variant, "seed": seed, "minutes": minutes,
                  "step": summary["step"], "selected_step": step,
                  "selected": summary["selected"],
                  "trained_seconds": summary["elapsed_s"],
                  "load_average": common.load_average(),
                  "judge_seed": args.judge_seed,
                  **score(model, config, args.num_pieces, seed, judge, args.judge_seed)}
        state["records"].append(record)
        results.write_json(json_path, state)
        write_section(args, state, feature_sets, variants)
        print(format_record(record, feature_sets), flush=True)
  results.write_json(json_path, state)
  write_section(args, state, feature_sets, variants)  # also when every record was there
  return 0


def format_record(r, feature_sets):
  p = r[feature_sets[0]]
  s = p["set_level"]
  return (f"  step {r['step']} (model of step {r.get('selected_step', r['step'])}): "
          f"distance {p['distance']['mean']:.2f} +- "
          f"{p['distance']['std']:.2f}, Welch p = {p['t_test']['p_value']:.3g}; Frechet "
          f"{s['frechet']:.2f} (bound {s['thresholds']['frechet_bound']:.2f}), diversity "
          f"{s['diversity_ratio']:.2f}: {s['verdict']}")


def _row(r, feature_set, first):
  p = r[feature_set]
  s = p["set_level"]
  t = s["thresholds"]
  ks = ", ".join(f"{k['feature']} {k['statistic']:.2f}" for k in s["top_ks"])
  welch = (f"t = {p['t_test']['t']:.2f}, p = {p['t_test']['p_value']:.3g}" if first else "")
  bound_view = s.get("bound_view") or s["verdict"]
  selected = r.get("selected_step", r["step"])
  steps = f"{r['step']}" + (f" (selected {selected})" if selected != r["step"] else "")
  return (f"| {r['variant']} | {r['seed']} | {r['minutes']:g} | {steps} | "
          f"{1000 * r['trained_seconds'] / max(r['step'], 1):.0f} | {welch} | "
          f"{s['frechet']:.2f} | {t['frechet_bound']:.2f} | {s['diversity_ratio']:.2f} "
          f"({t['diversity_low']:.2f}-{t['diversity_high']:.2f}) | {bound_view} | "
          f"{s['p_value']:.3g} | {s['verdict']} | {ks} |")


def write_section(args, state, feature_sets, variants):
  order = {v: i for i, v in enumerate(VARIANTS)}
  records = sorted((r for r in state["records"] if r["variant"] in variants),
                   key=lambda r: (r["minutes"], order[r["variant"]], r["seed"]))
  commands = "; ".join(f"`{c}`" for c in state["commands"])
  ablation = args.ablation or any(v.startswith("+") for v in variants)
  lines = [args.section or SECTIONS[ablation], "",
           f"Commands (records of every one of them, one JSON): {commands}  ",
           f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ",
           f"Machine: {common.machine_line()}; the load average (1 / 5 / 15 min) at each "
           "record is in the JSON",
           "",
           f"Corpus `{args.corpus}`; {args.num_pieces} pieces per record straight from the "
           "sampler (no selection), seed = training seed; reference = every corpus chunk. "
           "Minutes are training time. Records: `bench_writer.json` under the out_dir. "
           "Where a variant chooses its checkpoint on held-out pieces (`selection`), steps "
           "are those trained and \"selected\" the step of the model scored; the choosing "
           "counts as training time.",
           "",
           "Two readings of the set-level judgement: the *bound view* is the issue's criterion "
           "(Fréchet distance under 1.5 x the largest between piece-level halves of the corpus, "
           "diversity ratio inside the calibrated range); the *verdict* is the piece-level "
           "permutation test that decides since the composer-measure work (generated chunks "
           "count as independent pieces; p >= 0.05 and diversity in range: \"same\")."]
  lines += [f"\nNote ({note})" for note in state.get("notes", [])]
  for i, feature_set in enumerate(feature_sets):
    lines += ["", f"Set-level judgement with the `{feature_set}` features:", "",
              "| variant | seed | minutes | steps | ms/step | Welch t-test (paper) | Fréchet "
              "| bound | diversity (range) | bound view | piece-level test p | verdict | "
              "largest KS statistics |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [_row(r, feature_set, i == 0) for r in records if feature_set in r]
  common.write_section(args.out, lines)


if __name__ == "__main__":
  sys.exit(main())
