r"""How much the set-level numbers move from one draw of pieces to the next, same model.

    python -m benchmarks.bench_draws --runs RUN[,RUN...] [--variant writer[,VARIANT...]] \
        [--draws 5] \
        [--corpus ../shared/data/beethoven_piano] [--feature_sets rizo17,extended] \
        [--num_pieces 500] [--out BENCHMARKS.md]

`benchmarks/bench_writer.py` scores one draw of `--num_pieces` pieces per trained model
(the sampler's seed = the training seed), against a Fréchet bound. Where a record lands
near the bound, whether it passes can depend on the draw as much as on the model. This
script scores `--draws` draws of each trained model (sampler seeds 0, 1, ...; the
bench_writer record's own draw is among them when its seed is below `--draws`), straight
from the sampler through the decoder of each of `--variant` (a comma list of bench_writer
variants, e.g. the recipe at several temperatures), judged exactly as bench_writer judges
(`bench_writer.build_judge` / `score`, judgement seed 0), and writes per model and feature
set every draw's Fréchet distance, their median and range, and how many are under the
bound. Nothing is chosen: every draw is reported.

Writes `bench_draws.json` (every draw's numbers, the config and the command) under
`--out_dir`, and the section "## The writer: draw-to-draw spread of the set-level numbers"
of `--out`, with a row per model of `--runs`, variant and feature set. A model already in
that JSON, scored with the
same variant, draws, pieces, corpus and feature sets at the step its folder holds now, is
kept, not scored again (its draws are seeded, so they would come out the same): a table can
grow by one model at a time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import statistics
import sys

from benchmarks import bench_writer
from benchmarks import common
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features
from draw_music.writer import train

SECTION = "## The writer: draw-to-draw spread of the set-level numbers"


def score_draws(model, config, draws, num_pieces, judge):
  """`[draws]` bench_writer records (`bench_writer.score`) of one model, sampler seeds
  0..draws-1."""
  return [bench_writer.score(model, config, num_pieces, seed, judge) for seed in range(draws)]


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_draws")
  parser.add_argument("--runs", required=True, help="training folders, comma list")
  parser.add_argument("--variant", default="writer",
                      help=f"whose sampler and decoder make the pieces, a comma list of "
                           f"{sorted(bench_writer.VARIANTS)}")
  parser.add_argument("--draws", type=int, default=5)
  parser.add_argument("--corpus", default="../shared/data/beethoven_piano")
  parser.add_argument("--feature_sets", default="rizo17,extended")
  parser.add_argument("--num_pieces", type=int, default=500)
  parser.add_argument("--out_dir", default="out/bench_draws")
  parser.add_argument("--out", default="BENCHMARKS.md")
  parser.add_argument("--section", default=SECTION,
                      help="heading of the section written into --out (another heading keeps "
                           "the section of other models)")
  args = parser.parse_args(argv)
  if args.draws < 1:
    parser.error(f"--draws must be a positive integer, got {args.draws}")
  configs = {v: bench_writer.variant_config(v) for v in args.variant.split(",")}
  feature_sets = args.feature_sets.split(",")
  for feature_set in feature_sets:
    features.feature_names(feature_set)
  runs = common.training_folders(parser, args.runs)

  out_dir = pathlib.Path(args.out_dir)
  json_path = out_dir / "bench_draws.json"
  setting = {"num_draws": args.draws, "num_pieces": args.num_pieces, "corpus": args.corpus,
             "feature_sets": feature_sets}
  stored = kept_models(json_path)
  run_info = results.run_info({"runs": [str(r) for r in runs], "variants": list(configs),
                               **setting}, 0)

  def save(models):
    results.write_json(json_path, {"run": run_info, "models": models})

  judge = None
  out = []
  for run in runs:
    model, step = train.load_trained(run)
    for variant, config in configs.items():
      kept_as = {**setting, "variant": variant}
      earlier = find_model(stored, str(run), step, kept_as)
      if earlier is not None:
        print(f"[{run.name}, {variant}] step {step}: kept from {json_path}", flush=True)
        out.append(earlier)
        continue
      if judge is None:
        corpus = corpus_lib.load_corpus(args.corpus)
        chunks, piece_index = corpus_lib.corpus_chunks(corpus.rolls, 104)
        print(f"{len(corpus)} pieces, {len(chunks)} chunks; calibrating the judgement",
              flush=True)
        judge = bench_writer.build_judge(chunks, piece_index, feature_sets, 0)
      bench_writer.decode_as(model, config, run, step)
      print(f"[{run.name}, {variant}] step {step}: {args.draws} draws of {args.num_pieces}",
            flush=True)
      records = score_draws(model, config, args.draws, args.num_pieces, judge)
      entry = {"run": str(run), "step": step, **kept_as, "draws": []}
      for seed, record in enumerate(records):
        entry["draws"].append({"seed": seed, **{
            fs: {k: record[fs]["set_level"][k] for k in ("frechet", "p_value",
                                                          "diversity_ratio", "bound_view")}
            | {"bound": record[fs]["set_level"]["thresholds"]["frechet_bound"]}
            for fs in feature_sets}})
        print("  seed %d: %s" % (seed, ", ".join(
            f"{fs} {record[fs]['set_level']['frechet']:.2f}" for fs in feature_sets)),
              flush=True)
      out.append(entry)
      # Written after every model, so a stopped run keeps what it scored.
      stored = [m for m in stored if not _same(m, str(run), kept_as)] + [entry]
      save(stored)
  save(stored)  # also when every model was kept: the run's config names this command
  lines = section_lines(out, feature_sets, args)
  common.write_section(pathlib.Path(args.out), lines)
  print("\n".join(lines))
  return 0


SETTING_KEYS = ("variant", "num_draws", "num_pieces", "corpus", "feature_sets")


def kept_models(json_path):
  """The models an earlier run scored into `json_path`, each with its setting
  (`SETTING_KEYS`; a file written before models carried theirs gives them its own)."""
  path = pathlib.Path(json_path)
  if not path.exists():
    return []
  data = json.loads(path.read_text())
  config = data.get("run", {}).get("config", {})
  default = {k: config.get("draws" if k == "num_draws" else k) for k in SETTING_KEYS}
  return [{**default, **m} for m in data.get("models", [])]


def _same(model, run, setting):
  return model["run"] == run and all(model.get(k) == setting[k] for k in SETTING_KEYS)


def find_model(stored, run, step, setting):
  """The stored model of folder `run` scored with `setting` at training step `step`, or None
  (a folder that has trained on since is scored again)."""
  for model in stored:
    if _same(model, run, setting) and model["step"] == step:
      return model
  return None


def section_lines(models, feature_sets, args):
  """The Markdown section: one row per model and feature set."""
  lines = [args.section, "",
           f"Command: `{common.command_line('benchmarks.bench_draws')}`  ",
           f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ",
           f"Machine: {common.machine_line()}  ", "",
           f"Each trained model scored on {args.draws} draws of {args.num_pieces} pieces "
           f"(sampler seeds 0 to {args.draws - 1}), straight from the sampler of each "
           "variant through its decoder, judged as `benchmarks/bench_writer.py` judges (its "
           "record of a model is the draw whose seed is the training seed). Every draw is "
           "listed; none is chosen.", "",
           "| model | variant | step | feature set | bound | Fréchet of each draw | median | "
           "under the bound |", "|---|---|---|---|---|---|---|---|"]
  for m in models:
    for fs in feature_sets:
      values = [d[fs]["frechet"] for d in m["draws"]]
      bound = m["draws"][0][fs]["bound"]
      under = sum(v < bound for v in values)
      lines.append(f"| {pathlib.Path(m['run']).name} | {m['variant']} | {m['step']} | {fs} | "
                   f"{bound:.2f} | "
                   + ", ".join(f"{v:.2f}" for v in values)
                   + f" | {statistics.median(values):.2f} | {under} of {len(values)} |")
  return lines


if __name__ == "__main__":
  sys.exit(main())
