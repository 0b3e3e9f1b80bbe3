"""Every figure the project draws, one function each (STYLE.md habit 10).

Experiments, notebooks and the README all call these, so they show the same picture. Each
function takes plain arrays or dicts (what the experiments write to CSV/JSON), returns the
matplotlib `Figure`, and saves it as PNG when given `path`. Nothing here computes a result.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless: files only; notebooks still display the returned Figure
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from draw_music.metric import measure

# One colour per set, in the paper's Fig. 1 order; further sets cycle through the tab10 map.
SET_COLOURS = ("tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:red", "tab:brown",
               "tab:pink", "tab:gray")


def _save(fig, path):
  if path:
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
  return fig


def plot_distance_histograms(distances, path=None, title=None, xmax=None, bins=60,
                             show_categories=True):
  """Overlaid histograms of Mahalanobis distances, one per set (the paper's Fig. 1 / Fig. 4).

  Args:
    distances: dict `name -> [n]` distances, drawn in the dict's order.
    path: PNG to write (optional).
    title: figure title.
    xmax: right end of the x axis; default: the 99th percentile of all distances, at least 12.
    bins: number of bins over `[0, xmax]`; larger distances go into the last bin.
    show_categories: shade the Table II category bounds (4.5, 7, 10).

  Returns:
    The matplotlib Figure.
  """
  values = [np.asarray(v, np.float64) for v in distances.values()]
  every = np.concatenate(values) if values else np.zeros(1)
  if xmax is None:
    xmax = max(12.0, float(np.percentile(every, 99)) * 1.05)
  edges = np.linspace(0.0, xmax, bins + 1)
  fig, ax = plt.subplots(figsize=(8, 4.5))
  for i, (name, v) in enumerate(zip(distances, values)):
    colour = SET_COLOURS[i % len(SET_COLOURS)]
    clipped = np.minimum(v, xmax - 1e-9)
    ax.hist(clipped, bins=edges, density=True, alpha=0.45, color=colour,
            label=f"{name} (median {np.median(v):.2f})")
    ax.axvline(np.median(v), color=colour, lw=1.2, ls="--")
  if show_categories:
    for bound in measure.CATEGORY_BOUNDS:
      ax.axvline(bound, color="k", lw=0.6, ls=":")
  ax.set_xlim(0, xmax)
  ax.set_xlabel("Mahalanobis distance to the reference")
  ax.set_ylabel("density")
  ax.set_title(title or "Distances to the reference corpus")
  ax.legend(fontsize=8)
  fig.tight_layout()
  return _save(fig, path)


def plot_piano_roll(roll, path=None, title=None, steps_per_beat=8):
  """A piano roll as a picture: time to the right, pitch upwards, beats marked.

  Args:
    roll: `[time, 128]` array (bool or probabilities in [0, 1]).
    path: PNG to write (optional).
    title: figure title.
    steps_per_beat: for the beat grid on the time axis.
  """
  roll = np.asarray(roll, np.float32)
  active = np.nonzero(roll.any(axis=0))[0]
  low, high = (int(active.min()), int(active.max())) if active.size else (48, 84)
  low, high = max(0, low - 3), min(127, high + 3)
  fig, ax = plt.subplots(figsize=(max(4.0, roll.shape[0] / 16), 3.5))
  ax.imshow(roll[:, low:high + 1].T, origin="lower", aspect="auto", cmap="Greys",
            vmin=0, vmax=1, extent=(0, roll.shape[0], low - 0.5, high + 0.5),
            interpolation="nearest")
  for beat in range(0, roll.shape[0] + 1, steps_per_beat):
    ax.axvline(beat, color="tab:blue", lw=0.3, alpha=0.5)
  ax.set_xlabel(f"step (1/{steps_per_beat} beat)")
  ax.set_ylabel("MIDI pitch")
  if title:
    ax.set_title(title)
  fig.tight_layout()
  return _save(fig, path)


def plot_roll_grid(groups, path=None, title=None, columns=4, low=21, high=108,
                   steps_per_beat=8):
  """Side-by-side grids of piano rolls, one grid per group, to judge by eye.

  Every panel shows the same pitch range (`low..high`, the piano's by default), so that
  register and density compare across panels and groups; nothing is scaled per panel.

  Args:
    groups: dict `{name: [n, time, 128] rolls}`, e.g. 16 generated pieces and 16 corpus
      chunks; each group is drawn as a grid of `columns` panels per row, the groups side by
      side.
    path: PNG to write (optional).
    title: figure title.
    columns: panels per row within a group.
    low, high: pitch range shown.
    steps_per_beat: beat lines every this many steps.
  """
  names = list(groups)
  rows = max(int(np.ceil(len(groups[n]) / columns)) for n in names)
  fig, axes = plt.subplots(rows, columns * len(names),
                           figsize=(2.0 * columns * len(names), 1.5 * rows + 0.6),
                           squeeze=False)
  for g, name in enumerate(names):
    rolls = np.asarray(groups[name], np.float32)
    for i in range(rows * columns):
      ax = axes[i // columns, g * columns + i % columns]
      ax.set_xticks([])
      ax.set_yticks([])
      if i >= len(rolls):
        ax.axis("off")
        continue
      roll = rolls[i]
      ax.imshow(roll[:, low:high + 1].T, origin="lower", aspect="auto", cmap="Greys",
                vmin=0, vmax=1, interpolation="nearest")
      for beat in range(0, roll.shape[0] + 1, steps_per_beat * 4):
        ax.axvline(beat - 0.5, color="tab:blue", lw=0.3, alpha=0.5)
      if i == 0:
        ax.set_title(name, loc="left", fontsize=9)
  if title:
    fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  return _save(fig, path)


def plot_generated_vs_corpus(rolls, chunks, path=None, seed=0, count=16):
  """The first `count` generated pieces (as sampled, none chosen) beside `count` corpus
  chunks drawn at random with `seed` (`plot_roll_grid`).

  Args:
    rolls: `[n, time, 128]` generated pieces.
    chunks: `[m, time, 128]` corpus chunks.
    path: PNG to write (optional).
    seed: seed of the corpus chunks' draw.
    count: pieces on each side.
  """
  rng = np.random.default_rng(seed)
  corpus = np.asarray(chunks)[np.sort(rng.choice(len(chunks), min(count, len(chunks)),
                                                 replace=False))]
  return plot_roll_grid(
      {f"generated (first {min(count, len(rolls))}, as sampled)": np.asarray(rolls)[:count],
       f"corpus ({len(corpus)} random chunks)": corpus}, path)


def plot_interpolation(rolls, ts, path=None, title=None, steps_per_beat=8):
  """A latent path as one strip: the pieces side by side, each labelled with its `t`.

  Args:
    rolls: `[num, time, 128]` pieces along the path (bool or probabilities in [0, 1]).
    ts: `[num]` positions on the path (0 = the first input, 1 = the last).
    path: PNG to write (optional).
    title: figure title.
    steps_per_beat: for the beat grid.
  """
  rolls = np.asarray(rolls, np.float32)
  num, steps = rolls.shape[0], rolls.shape[1]
  active = np.nonzero(rolls.any(axis=(0, 1)))[0]
  low, high = (int(active.min()), int(active.max())) if active.size else (48, 84)
  low, high = max(0, low - 3), min(127, high + 3)
  strip = np.concatenate([r[:, low:high + 1] for r in rolls], axis=0)  # [num * time, pitch]
  fig, ax = plt.subplots(figsize=(max(6.0, num * steps / 40), 3.5))
  ax.imshow(strip.T, origin="lower", aspect="auto", cmap="Greys", vmin=0, vmax=1,
            extent=(0, num * steps, low - 0.5, high + 0.5), interpolation="nearest")
  for k in range(1, num):
    ax.axvline(k * steps, color="tab:red", lw=1.0)
  ax.set_xticks([(k + 0.5) * steps for k in range(num)])
  ax.set_xticklabels([f"t = {t:.2f}" for t in ts], fontsize=8)
  ax.set_ylabel("MIDI pitch")
  if title:
    ax.set_title(title, fontsize=9)
  fig.tight_layout()
  return _save(fig, path)


VERDICT_STYLES = {"same": ("o", "tab:green"), "different": ("X", "tab:red")}


def plot_style_separation(distances, set_level, path=None, title=None, xmax=None):
  """Both views of a style-separation run: per-chunk distances, and set-level verdicts.

  Left: one box per set of its per-chunk Mahalanobis distances (box: quartiles; whiskers:
  5th and 95th percentiles; diamond: mean), with the Table II bounds and each set's share
  "like the corpus" (D < 4.5). Right: each set's Fréchet distance to its reference on a log
  scale, marked by its verdict, with the set's calibrated bound (1.5 x the largest Fréchet
  distance between piece-level halves of the reference) as a black bar.

  Args:
    distances: dict `name -> [n]` per-chunk distances, drawn top to bottom in dict order.
    set_level: dict `name -> {"frechet", "frechet_bound" (or None), "verdict"}` for the same
      names (what `style_separation.summary_rows` and the experiment's JSON hold).
    path: PNG to write (optional).
    title: figure title.
    xmax: right end of the left panel's axis; default the largest 95th percentile, >= 12.

  Returns:
    The matplotlib Figure.
  """
  names = list(distances)
  values = [np.asarray(distances[n], np.float64) for n in names]
  ypos = np.arange(len(names))[::-1]
  if xmax is None:
    xmax = max([12.0] + [float(np.percentile(v, 95)) * 1.1 for v in values if v.size])
  fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.55 * len(names) + 2.0),
                                    sharey=True, gridspec_kw={"width_ratios": [1.3, 1]})
  for i, (y, v) in enumerate(zip(ypos, values)):
    colour = SET_COLOURS[i % len(SET_COLOURS)]
    left.boxplot(v, positions=[y], vert=False, widths=0.55, whis=(5, 95), showfliers=False,
                 patch_artist=True, boxprops={"facecolor": colour, "alpha": 0.5},
                 medianprops={"color": "k"})
    left.plot(v.mean(), y, "D", color=colour, mec="k", ms=5)
    like = float(np.mean(v < measure.CATEGORY_BOUNDS[0])) if v.size else 0.0
    left.text(xmax * 0.985, y, f"{100 * like:.0f}% like", ha="right", va="center", fontsize=8)
  for bound in measure.CATEGORY_BOUNDS:
    left.axvline(bound, color="k", lw=0.6, ls=":")
  left.set_xlim(0, xmax)
  left.set_yticks(ypos)
  left.set_yticklabels(names)
  left.set_xlabel("per-chunk Mahalanobis distance (dotted: Table II bounds)")
  left.set_title("Piece by piece: the paper's distance", fontsize=10)

  frechet = [max(float(set_level[n]["frechet"]), 1e-3) for n in names]
  for y, n, f in zip(ypos, names, frechet):
    marker, colour = VERDICT_STYLES.get(set_level[n]["verdict"], ("s", "tab:gray"))
    right.plot(f, y, marker, color=colour, ms=9, mec="k")
    bound = set_level[n].get("frechet_bound")
    if bound is not None:
      right.plot(bound, y, "|", color="k", ms=16, mew=2)
    right.annotate(set_level[n]["verdict"], (f, y), xytext=(8, 6),
                   textcoords="offset points", fontsize=8, color=colour)
  right.set_xscale("log")
  right.set_xlim(min(frechet + [1.0]) / 2, max(frechet) * 3)
  for verdict, (marker, colour) in VERDICT_STYLES.items():
    right.plot([], [], marker=marker, color=colour, mec="k", ls="", label=verdict)
  right.plot([], [], "|", color="k", ms=12, mew=2, ls="", label="calibrated bound")
  right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3,
               frameon=False)
  right.set_xlabel("Fréchet distance to the reference (log)")
  right.set_title("As a set: Fréchet distance and verdict", fontsize=10)
  right.grid(axis="x", which="major", lw=0.4, alpha=0.5)
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  return _save(fig, path)


def _plot_band_sweep(x, distances, centre, std, centre_name, best, most_stable, z, ymax,
                     xlabel, path, title, marker_size):
  """Scatter of every point, centre line, `centre +- z * std` band, and the two picks."""
  x = np.asarray(x, np.float64)
  d = np.asarray(distances, np.float64)
  centre = np.asarray(centre, np.float64)
  std = np.asarray(std, np.float64)
  fig, ax = plt.subplots(figsize=(8, 4.5))
  xs = np.broadcast_to(x, d.shape)
  shown = d <= ymax
  ax.scatter(xs[shown], d[shown], s=marker_size, color="tab:blue", alpha=0.35, lw=0,
             label=f"{d.shape[0]} outputs x {d.shape[1]} points")
  ax.plot(x, centre, color="k", lw=1.6, label=centre_name)
  ax.plot(x, centre + z * std, color="k", lw=1.0, ls=":",
          label=f"{centre_name} +- {z:g} std")
  ax.plot(x, centre - z * std, color="k", lw=1.0, ls=":")
  for value, name, colour in ((best, f"best {centre_name}", "tab:green"),
                              (most_stable, "most stable (lowest upper band)", "tab:red")):
    if value is not None:
      ax.axvline(value, color=colour, lw=1.0, ls="--", label=f"{name}: {value:.3g}")
  hidden = int((~shown).sum())
  if hidden:
    ax.text(0.99, 0.98, f"{hidden} of {d.size} points above {ymax:g} not shown",
            transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
  ax.set_ylim(0, ymax)
  ax.set_xlim(min(0.0, float(x.min())), max(1.0, float(x.max())))
  ax.set_xlabel(xlabel)
  ax.set_ylabel("Mahalanobis distance to the corpus")
  ax.set_title(title)
  ax.legend(fontsize=8, loc="upper left")
  fig.tight_layout()
  return _save(fig, path)


def plot_threshold_sweep(alphas, distances, median, std, best=None, most_stable=None,
                         z=1.96, ymax=15.0, path=None, title=None):
  """The paper's Fig. 5: distance against the binarisation threshold alpha.

  Every (output, alpha) piece is a point; the solid line is the median over the outputs,
  the dotted lines `median +- z * std`; dashed verticals mark the best-median and the most
  stable alpha. The y axis is cut at `ymax` (points above are counted in a corner note).

  Args:
    alphas: `[num_alphas]` thresholds.
    distances: `[num_outputs, num_alphas]` distances.
    median: `[num_alphas]` median over the outputs.
    std: `[num_alphas]` standard deviation over the outputs.
    best: alpha of the lowest median (optional).
    most_stable: alpha of the lowest `median + z * std` (optional).
    z: band half-width in standard deviations.
    ymax: top of the y axis.
    path: PNG to write (optional).
    title: figure title.

  Returns:
    The matplotlib Figure.
  """
  return _plot_band_sweep(alphas, distances, median, std, "median", best, most_stable, z,
                          ymax, "binarisation threshold alpha", path,
                          title or "Fig. 5: distance against the threshold alpha", 6)


def plot_step_quality(step_fraction, distances, mean, std, best=None, most_stable=None,
                      z=1.96, ymax=10.0, path=None, title=None):
  """The paper's Fig. 6: distance of each DRAW step's canvas, against t / num_steps.

  Every (output, step) piece is a point; the solid line is the mean over the outputs, the
  dotted lines `mean +- z * std`; dashed verticals mark the best and the most stable step.
  The y axis is cut at `ymax` (10 in the paper; points above are counted in a corner note).

  Args:
    step_fraction: `[num_steps]` step / num_steps (the paper's t / T).
    distances: `[num_outputs, num_steps]` distances.
    mean: `[num_steps]` mean over the outputs.
    std: `[num_steps]` standard deviation over the outputs.
    best: t / num_steps of the lowest mean (optional).
    most_stable: t / num_steps of the lowest `mean + z * std` (optional).
    z: band half-width in standard deviations.
    ymax: top of the y axis.
    path: PNG to write (optional).
    title: figure title.

  Returns:
    The matplotlib Figure.
  """
  return _plot_band_sweep(step_fraction, distances, mean, std, "mean", best, most_stable, z,
                          ymax, "generation step t / T", path,
                          title or "Fig. 6: distance of each step's canvas", 14)


def plot_decision_tree(classifier, feature_names, class_names, path=None, title=None):
  """A fitted decision tree (the paper's tree over the searched architectures).

  Each box shows its split, the architectures that reach it, how many of them fall in
  each class, and its majority class (the box's colour).

  Args:
    classifier: a fitted `sklearn.tree.DecisionTreeClassifier`.
    feature_names: name of each of its features.
    class_names: name of each of `classifier.classes_`.
    path: PNG to write (optional).
    title: figure title.

  Returns:
    The matplotlib Figure.
  """
  from sklearn import tree as sk_tree  # pylint: disable=g-import-not-at-top  (slow import)
  leaves = max(int(classifier.get_n_leaves()), 1)
  fig, ax = plt.subplots(figsize=(max(8.0, 2.6 * leaves), 2.2 * (classifier.get_depth() + 1)))
  sk_tree.plot_tree(classifier, feature_names=list(feature_names),
                    class_names=list(class_names), filled=True, rounded=True,
                    impurity=False, fontsize=8, ax=ax)
  ax.set_title(title or "Table II category of each architecture from its parameters")
  fig.tight_layout()
  return _save(fig, path)


def plot_composer_matrix(names, p_values, verdicts, path=None, title=None, alpha=0.05,
                         num_permutations=None):
  """The composer-separation matrix: one cell per pair of corpora, halvings on the diagonal.

  Colour: `-log10 p` of the piece-level permutation test that the verdict read (darker is
  more surely different), capped at the smallest p-value the permutations can give. Text:
  the verdict ("same" / "diff") and p. A cell is outlined in red when the verdict is
  unexpected: "different" on the diagonal (a halving of one corpus), "same" off it.

  Args:
    names: the k corpus names.
    p_values: `[k, k]` symmetric p-values (`composer_separation.verdict_matrix`).
    verdicts: `k x k` nested list of "same" / "different".
    path: PNG to write (optional).
    title: figure title.
    alpha: significance level (drawn in the colour bar).
    num_permutations: sets the colour cap `log10(1 + num_permutations)`; default 3.

  Returns:
    The matplotlib Figure.
  """
  p = np.asarray(p_values, np.float64)
  k = len(names)
  cap = np.log10(1 + num_permutations) if num_permutations else 3.0
  score = np.clip(-np.log10(p), 0, cap)
  fig, ax = plt.subplots(figsize=(1.1 * k + 2.5, 1.0 * k + 1.5))
  image = ax.imshow(score, cmap="Blues", vmin=0, vmax=cap)
  for i in range(k):
    for j in range(k):
      verdict = verdicts[i][j]
      text = "diff" if verdict == "different" else verdict
      colour = "white" if score[i, j] > 0.6 * cap else "black"
      ax.text(j, i, f"{text}\np={p[i, j]:.2g}", ha="center", va="center", fontsize=8,
              color=colour)
      unexpected = (verdict == "different") if i == j else (verdict == "same")
      if unexpected:
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="tab:red",
                                   lw=2.5))
  ax.set_xticks(range(k))
  ax.set_yticks(range(k))
  ax.set_xticklabels(names, rotation=35, ha="right")
  ax.set_yticklabels(names)
  bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
  bar.set_label("-log10 p (piece-level permutation test)")
  bar.ax.axhline(-np.log10(alpha), color="tab:red", lw=1.5)
  ax.set_title(title or "Pairs of corpora (off the diagonal) and halves of one (diagonal)",
               fontsize=10)
  fig.tight_layout()
  return _save(fig, path)
