r"""Long pieces: are the windows across chunk seams like the windows inside chunks?

    python -m experiments.seam_continuity --checkpoint out/i10_model \
        --corpus ../shared/data/beethoven_piano --n 600 --beats 64 \
        [--seam_method continuity] [--texture piece] --out_dir out/seams

Generates --n pieces of --beats beats twice: a chunk chosen at each seam by --seam_method
(`generate.generate_long`, --candidates per seam) and plain concatenation (one candidate).
For each, one window per piece (`draw_music.writer.seams`: inside windows from even pieces,
seam windows from odd ones) and the set-level comparison of seam windows against inside
windows (`set_measures.compare_sets`: MMD permutation test, Fréchet distance, diversity,
KS), plus both sets' distances to the corpus. Writes seam_continuity.json (config, seed,
command, results), seam_continuity.csv (one row per method) and seam_continuity.png (the
distance histograms).
"""

import os

from absl import app
from absl import flags

from draw_music import plotting
from draw_music import results
from draw_music.metric import measure
from draw_music.writer import generate
from draw_music.writer import seams
from experiments import common

_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "training folder", required=True)
_CORPUS = flags.DEFINE_string("corpus", "", "reference corpus (default: bundled Beethoven)")
_N = flags.DEFINE_integer("n", 600, "pieces per method (half give inside windows, half "
                          "seam windows)", lower_bound=4)
_BEATS = flags.DEFINE_integer("beats", 64, "length of each piece in beats", lower_bound=1)
_CANDIDATES = flags.DEFINE_integer("candidates", generate.DEFAULT_CANDIDATES,
                                   "chunks drawn per seam", lower_bound=1)
_SEAM_METHOD = flags.DEFINE_enum("seam_method", generate.DEFAULT_SEAM_METHOD,
                                  list(generate.SEAM_METHODS),
                                  "how the chained pieces choose a chunk at each seam "
                                  "(`generate.chain_chunks`)")
_TEXTURE = flags.DEFINE_enum("texture", generate.DEFAULT_TEXTURE, list(generate.TEXTURES),
                              "where the decoder follows the corpus: each chunk decoded with "
                              "its piece's first chunk's density and note lengths ('piece') "
                              "or its own ('chunk'); `generate.generate_long`")
_ALPHA = flags.DEFINE_float("alpha", None, "threshold (default: the model's)",
                            lower_bound=0.0, upper_bound=1.0)
_SEED = flags.DEFINE_integer("seed", 0, "seed of the latent draws and permutations")
_NUM_PERMUTATIONS = flags.DEFINE_integer("num_permutations", 1000, "permutations",
                                         lower_bound=1)
_OUT_DIR = flags.DEFINE_string("out_dir", "out/seams", "output folder")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  loaded = common.load_checkpoint_and_chunks(_CHECKPOINT.value, _CORPUS.value)
  if loaded is None:
    return 2
  model, step, corpus_dir, chunks = loaded
  chunk_steps = model.config.chunk_steps
  if _BEATS.value * generate.STEPS_PER_BEAT < 2 * chunk_steps:
    raise app.UsageError(f"--beats {_BEATS.value} is shorter than two chunks "
                         f"({2 * chunk_steps // generate.STEPS_PER_BEAT} beats): no seam")
  alpha = model.config.alpha if _ALPHA.value is None else _ALPHA.value
  reference = measure.reference_from_rolls(chunks)
  out = {}
  rows = []
  distances = {}
  for method, k in (("chained", _CANDIDATES.value), ("plain", 1)):
    common.stage(f"{method}: {_N.value} pieces of {_BEATS.value} beats, {k} candidate(s) "
                 "per seam")
    pieces, _ = generate.generate_long(model, _N.value, _BEATS.value, alpha, _SEED.value, k,
                                       _SEAM_METHOD.value, _TEXTURE.value)
    inside, seam, _, _ = seams.one_window_per_piece(
        pieces, chunk_steps, *generate.joins(pieces.shape[1], chunk_steps, _SEAM_METHOD.value))
    res = seams.compare_windows(inside, seam, num_permutations=_NUM_PERMUTATIONS.value,
                                seed=_SEED.value, reference=reference)
    for name in ("inside", "seam"):
      distances[f"{method}: {name} windows"] = res["distance"][name].pop("values")
    out[method] = {"candidates": k, **res}
    s, j, d = res["set_level"], res["jumps"], res["distance"]
    rows.append({"method": method, "candidates": k, "num_inside": len(inside),
                 "num_seam": len(seam), "mmd2": s["mmd"], "p_value": s["p_value"],
                 "frechet": s["frechet"], "diversity_ratio": s["diversity_ratio"],
                 "verdict": s["verdict"],
                 "distance_inside_mean": d["inside"]["mean"],
                 "distance_seam_mean": d["seam"]["mean"],
                 "density_jump_inside": j["inside"]["density"],
                 "density_jump_seam": j["seam"]["density"],
                 "register_jump_inside": j["inside"]["register"],
                 "register_jump_seam": j["seam"]["register"],
                 "held_inside": j["inside"]["held"], "held_seam": j["seam"]["held"]})
    print(f"{method}: seam vs inside windows: MMD^2 {s['mmd']:.4f}, p = {s['p_value']:.3g}, "
          f"Frechet {s['frechet']:.3g}, verdict '{s['verdict']}'; distance to the corpus "
          f"inside {d['inside']['mean']:.2f}, seam {d['seam']['mean']:.2f}; density jump "
          f"inside {j['inside']['density']:.2f}, seam {j['seam']['density']:.2f}; register "
          f"jump inside {j['inside']['register']:.2f}, seam {j['seam']['register']:.2f}; "
          f"held notes inside {j['inside']['held']:.2f}, seam {j['seam']['held']:.2f}")
  os.makedirs(_OUT_DIR.value, exist_ok=True)
  config = {"checkpoint": _CHECKPOINT.value, "step": step, "corpus": corpus_dir,
            "n": _N.value, "beats": _BEATS.value, "candidates": _CANDIDATES.value,
            "seam_method": _SEAM_METHOD.value, "texture": _TEXTURE.value, "alpha": alpha,
            "num_permutations": _NUM_PERMUTATIONS.value, "chunk_steps": chunk_steps}
  results.write_json(os.path.join(_OUT_DIR.value, "seam_continuity.json"),
                     {"run": results.run_info(config, _SEED.value), **out})
  results.write_csv(os.path.join(_OUT_DIR.value, "seam_continuity.csv"), rows)
  fig = plotting.plot_distance_histograms(
      distances, os.path.join(_OUT_DIR.value, "seam_continuity.png"),
      title=f"windows of {_BEATS.value}-beat pieces: distance to {common.set_name(corpus_dir)}")
  plotting.plt.close(fig)
  common.stage(f"wrote {_OUT_DIR.value}/seam_continuity.json, .csv, .png")
  return 0


if __name__ == "__main__":
  common.run(main)
