"""Pieces longer than a chunk (chained at seams), the page per run, and generate's audio."""

import html.parser
import json
import os
import pathlib
import shutil
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest

from draw_music.corpora import midi_io
from draw_music.listening import audio
from draw_music.listening import page
from draw_music.writer import generate
from draw_music.writer import seams
from draw_music.writer import train
from tests import helpers


def _roll(steps, pitches_per_step):
  roll = np.zeros((steps, 128), bool)
  for t, pitches in enumerate(pitches_per_step):
    roll[t, list(pitches)] = True
  return roll


def test_seam_cost_by_hand():
  # Tail: {60, 64} at each of its 4 steps: density 2, register 62, spread 2.
  tail = generate.seam_features(_roll(4, [{60, 64}] * 4)[None], "tail", 4)
  heads = np.stack([
      _roll(4, [{60}] * 4),      # held 60 of {60, 64}; density 1; register 60; spread 0
      _roll(4, [set()] * 4),     # silence
      _roll(4, [{72, 76}] * 4),  # same density and spread, register +12, nothing held
  ])
  cost = generate.seam_cost(tail, generate.seam_features(heads, "head", 4), held_weight=2)
  np.testing.assert_allclose(cost, [2 * 0.5 + 0.5 + 2 / 12 + 2 / 12, 2 * 1 + 1 + 1 + 1,
                                    2 * 1 + 0 + 12 / 12 + 0])


def test_chain_chunks_takes_the_continuing_candidate_and_cuts():
  first = _roll(8, [{40}] * 4 + [{50, 57}] * 4)[None]
  jump = _roll(8, [{90}] * 8)
  goes_on = _roll(8, [{50, 57}] * 3 + [{52}] * 5)
  after_a = _roll(8, [{52}] * 2 + [{30}] * 6)
  after_b = _roll(8, [{100, 101, 102}] * 8)
  candidates = np.stack([[jump, goes_on], [after_b, after_a]])[None]  # [1, 2 seams, 2, 8, 128]
  pieces, chosen = generate.chain_chunks(first, candidates, steps=20, half=4)
  np.testing.assert_array_equal(chosen, [[1, 1]])
  np.testing.assert_array_equal(pieces[0], np.concatenate([first[0], goes_on, after_a[:4]]))
  # The held notes run on over the seam: one note each, from step 4 to step 11.
  notes = midi_io.midi_to_roll(midi_io.roll_to_midi(pieces[0]))
  assert notes[4:11, 50].all() and notes[4:11, 57].all() and not notes[11, 50]
  plain, plain_chosen = generate.chain_chunks(first, candidates[:, :, :1], steps=20, half=4)
  np.testing.assert_array_equal(plain_chosen, [[0, 0]])
  np.testing.assert_array_equal(plain[0], np.concatenate([first[0], jump, after_b[:4]]))
  with pytest.raises(ValueError, match="candidates must have shape"):
    generate.chain_chunks(first, candidates, steps=40)
  for method in ("smooth", "overlap"):  # 'overlap' is chain_overlapping's
    with pytest.raises(ValueError, match="method must be"):
      generate.chain_chunks(first, candidates, steps=20, method=method)


def test_transitions_by_hand():
  # Before: {60, 64} (density 2, register 62, spread 2); after: {60} then silence.
  before = generate.seam_features(_roll(4, [{60, 64}] * 4)[None], "tail", 4)
  after = generate.seam_features(np.stack([_roll(4, [{60}] * 4), _roll(4, [set()] * 4),
                                           _roll(4, [{67, 79}] * 4)]), "head", 4)
  kept, density, register, spread, sounding = generate.transitions(before, after)
  np.testing.assert_allclose(kept, [1 / 2, 0, 0])
  np.testing.assert_allclose(density, [(1 - 2) / 2, (0 - 2) / 2, 0])
  np.testing.assert_allclose(register, [-2 / 12, 0, 11 / 12])
  np.testing.assert_allclose(spread, [-2 / 12, 0, 4 / 12])
  np.testing.assert_array_equal(sounding, [3, 1, 3])
  # Both edges silent: everything kept.
  silent = generate.seam_features(_roll(4, [set()] * 4)[None], "tail", 4)
  assert generate.transitions(silent, silent)[0][0] == 1.0
  # The cost against a target: differences summed; a different sounding pattern costs 2.
  target = (np.array(0.5), np.array(-0.5), np.array(0.0), np.array(0.0), np.array(3))
  np.testing.assert_allclose(
      generate.transition_cost(generate.transitions(before, after), target, held_weight=2),
      [0 + 0 + 2 / 12 + 2 / 12, 2 * 0.5 + 0.5 + 2, 2 * 0.5 + 0.5 + 11 / 12 + 4 / 12])


def test_chain_chunks_by_transition_changes_as_much_as_a_chunk_inside():
  # Candidate 0 moves up an octave across its middle: the seam should move as much.
  first = _roll(8, [{60}] * 8)[None]
  octave_up_inside = _roll(8, [{48}] * 4 + [{60}] * 4)
  same = _roll(8, [{60}] * 8)
  octave_up = _roll(8, [{72}] * 8)
  candidates = np.stack([octave_up_inside, same, octave_up])[None, None]
  target = generate.inside_transitions(octave_up_inside[None], 4)
  np.testing.assert_allclose([t[0] for t in target], [0, 0, 1, 0, 3])
  # Seam costs: down an octave (2), held (3 * 1 + 1), up an octave (0).
  pieces, chosen = generate.chain_chunks(first, candidates, steps=16, half=4,
                                         method="transition")
  np.testing.assert_array_equal(chosen, [[2]])
  np.testing.assert_array_equal(pieces[0], np.concatenate([first[0], octave_up]))
  # The least change would have held the note.
  _, chosen = generate.chain_chunks(first, candidates, steps=16, half=4)
  np.testing.assert_array_equal(chosen, [[1]])


def test_overlap_cost_by_hand():
  # Tail: 60 on all 4 steps, 64 on the last 2 (per-pitch counts 4 and 2; density 1.5).
  tail = _roll(4, [{60}] * 2 + [{60, 64}] * 2)
  heads = np.stack([
      _roll(4, [{60}] * 2 + [{60, 64}] * 2),  # the same: cost 0
      _roll(4, [{60}] * 4),                   # counts (4, 0): cos 4 / sqrt(20); d 1; {60}
      _roll(4, [set()] * 4),                  # silent: cosine 0, density 1, nothing kept
      _roll(4, [{72}] * 3 + [{60, 64, 72}]),  # cos (4*1 + 2*1) / (sqrt(20) sqrt(18)); d 1.5
  ])
  cost = generate.overlap_cost(tail, heads, held_weight=2)
  np.testing.assert_allclose(cost, [
      0.0,
      (1 - 4 / np.sqrt(20)) + 0.5 / 1.5 + 2 * (1 - 1 / 2),
      1 + 1.5 / 1.5 + 2 * 1,
      (1 - 6 / (np.sqrt(20) * np.sqrt(18))) + 0 + 2 * (1 - 2 / 3)], atol=1e-12)
  silent = _roll(4, [set()] * 4)
  np.testing.assert_allclose(generate.overlap_cost(silent, np.stack([silent, tail]), 2),
                             [0.0, 1 + 1.5 / 1.5 + 2 * 1])


def test_chain_overlapping_appends_the_second_half_of_the_matching_candidate():
  first = _roll(8, [{40}] * 4 + [{50, 57}] * 4)[None]
  unlike = _roll(8, [{90}] * 4 + [{91}] * 4)
  like = _roll(8, [{50, 57}] * 4 + [{52}] * 4)        # opens as the first chunk ends
  like_next = _roll(8, [{52}] * 4 + [{30}] * 4)       # opens as `like` ends
  candidates = np.stack([[unlike, like], [like_next, unlike]])[None]  # [1, 2 joins, 2, 8, 128]
  pieces, chosen = generate.chain_overlapping(first, candidates, steps=14)
  np.testing.assert_array_equal(chosen, [[1, 0]])
  np.testing.assert_array_equal(pieces[0], np.concatenate([first[0], like[4:], like_next[4:6]]))
  # Every window centred on a join is a whole drawn chunk here: the first half matched.
  np.testing.assert_array_equal(pieces[0, 4:12], like)
  inside, seam = generate.joins(14, 8, "overlap")
  np.testing.assert_array_equal(inside, [0])
  np.testing.assert_array_equal(seam, [8, 12])
  np.testing.assert_array_equal(generate.joins(20, 8, "continuity")[0], [0, 8])
  np.testing.assert_array_equal(generate.joins(20, 8, "continuity")[1], [8, 16])
  assert generate.num_draws(14, 8, "overlap") == 2 and generate.num_draws(20, 8) == 2
  with pytest.raises(ValueError, match="candidates must have shape"):
    generate.chain_overlapping(first, candidates, steps=30)


def test_windows_follow_the_joins_of_the_method():
  pieces = np.zeros((4, 40, 128), bool)
  for i in range(4):
    pieces[i, :, i] = True  # tell the pieces apart
    pieces[i, np.arange(40), 20 + np.arange(40)] = True  # and the steps
  inside, seam, inside_at, seam_at = seams.one_window_per_piece(
      pieces, 16, *generate.joins(40, 16, "overlap"))
  # Whole chunk only at 0; joins at 16, 24, 32 -> windows from 8 and 16 fit (24 does not).
  np.testing.assert_array_equal(inside_at, [0, 0])
  np.testing.assert_array_equal(seam_at, [8, 16])
  np.testing.assert_array_equal(seam[1], pieces[3, 16:32])
  np.testing.assert_array_equal(inside[1], pieces[2, 0:16])
  # The default is chunks end to end, as generate.joins gives for 'continuity'.
  default = seams.one_window_per_piece(pieces, 16)
  explicit = seams.one_window_per_piece(pieces, 16, *generate.joins(40, 16, "continuity"))
  for a, b in zip(default, explicit):
    np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  return helpers.train_tiny(tmp_path_factory.mktemp("run"))[0]


def test_generate_long_chains_the_model_samples(trained):
  model, _ = train.load_trained(trained)
  # Tiny chunks are 16 steps (2 beats): 5 beats = 40 steps = 3 chunks, 2 seams.
  pieces, chosen = generate.generate_long(model, 2, 5, 0.3, seed=3, candidates=4)
  assert pieces.shape == (2, 40, 128) and chosen.shape == (2, 2)
  samples = generate.last_canvases_binarized(model, 2 * (1 + 2 * 4), 0.3, 3)
  np.testing.assert_array_equal(samples, generate.generate_rolls(model, 18, 0.3, 3)[1])
  rest = samples[2:].reshape(2, 2, 4, 16, 128)
  for i in range(2):
    np.testing.assert_array_equal(pieces[i, :16], samples[i])
    previous = samples[i]
    for s in range(2):
      cost = generate.seam_cost(generate.seam_features(previous[None], "tail", 8),
                                generate.seam_features(rest[i, s], "head", 8))
      assert chosen[i, s] == np.argmin(cost)
      previous = rest[i, s, chosen[i, s]]
      np.testing.assert_array_equal(pieces[i, 16 * (s + 1):16 * (s + 2)],
                                    previous[:40 - 16 * (s + 1)])
  # The other method chooses among the same samples by its own cost.
  _, chosen = generate.generate_long(model, 2, 5, 0.3, seed=3, candidates=4,
                                     method="transition")
  for i in range(2):
    previous = samples[i]
    for s in range(2):
      seam = generate.transitions(generate.seam_features(previous[None], "tail", 8),
                                  generate.seam_features(rest[i, s], "head", 8))
      cost = generate.transition_cost(seam, generate.inside_transitions(rest[i, s, :1], 8))
      assert chosen[i, s] == np.argmin(cost)
      previous = rest[i, s, chosen[i, s]]
  # 'overlap': 40 steps = a chunk and 3 half-chunks (joins at 16, 24, 32), each the second
  # half of the candidate whose first half is most like the last 8 steps.
  pieces, chosen = generate.generate_long(model, 2, 5, 0.3, seed=3, candidates=4,
                                          method="overlap")
  assert chosen.shape == (2, 3)
  samples = generate.last_canvases_binarized(model, 2 * (1 + 3 * 4), 0.3, 3)
  rest = samples[2:].reshape(2, 3, 4, 16, 128)
  for i in range(2):
    piece = samples[i]
    for j in range(3):
      cost = generate.overlap_cost(piece[-8:], rest[i, j, :, :8])
      assert chosen[i, j] == np.argmin(cost)
      piece = np.concatenate([piece, rest[i, j, chosen[i, j], 8:]])
    np.testing.assert_array_equal(pieces[i], piece)
  with pytest.raises(ValueError, match="beats must be a positive integer"):
    generate.generate_long(model, 1, 0, 0.3, 0)
  with pytest.raises(ValueError, match="method must be one of"):
    generate.generate_long(model, 1, 5, 0.3, 0, method="smooth")


class _Links(html.parser.HTMLParser):
  """Every src / href of a page, and the text of each piece row's distance cell."""

  def __init__(self):
    super().__init__()
    self.links, self.rows, self._cells = [], [], None

  def handle_starttag(self, tag, attrs):
    attrs = dict(attrs)
    for key in ("src", "href"):
      if key in attrs:
        self.links.append(attrs[key])
    if tag == "tr" and attrs.get("class") == "piece":
      self._cells = []
    elif tag == "td" and self._cells is not None:
      self._cells.append("")

  def handle_data(self, data):
    if self._cells:
      self._cells[-1] += data

  def handle_endtag(self, tag):
    if tag == "tr" and self._cells is not None:
      self.rows.append(self._cells)
      self._cells = None


def parse_page(path):
  parser = _Links()
  parser.feed(pathlib.Path(path).read_text(encoding="utf-8"))
  return parser


def check_links(page_path):
  """Every link of the page is a relative path to an existing file; returns the parser."""
  parsed = parse_page(page_path)
  folder = pathlib.Path(page_path).parent
  for link in parsed.links:
    assert "://" not in link and not link.startswith("/"), link
    assert (folder / urllib.parse.unquote(link)).is_file(), link
  return parsed


def test_generate_long_command_line_writes_audio_and_page(trained, tmp_path):
  out = tmp_path / "gen"
  reference = helpers.write_corpus(tmp_path / "ref", [
      helpers.random_roll(np.random.default_rng(i), 64, 0.4) for i in range(6)])
  assert generate.main(["--checkpoint", str(trained), "--n", "3", "--beats", "5",
                        "--alpha", "0.3", "--seed", "2", "--candidates", "4",
                        "--reference", str(reference), "--out_dir", str(out)]) == 0
  model, _ = train.load_trained(trained)
  pieces, _ = generate.generate_long(model, 3, 5, 0.3, 2, 4)
  listing = json.loads((out / "pieces.json").read_text())
  for i, piece in enumerate(pieces):
    path = out / f"piece_{i:03d}.mid"
    assert listing["pieces"][i] == str(path)
    if piece.any():  # the file holds the piece, 40 steps long
      np.testing.assert_array_equal(midi_io.read_midi(path), piece)
  parsed = check_links(out / "index.html")
  assert len(parsed.rows) == 3
  if audio.audio_or_reason()[0]:
    assert sorted(p.name for p in out.glob("*.wav")) == [f"piece_{i:03d}.wav" for i in range(3)]
    assert sum(link.endswith(".wav") for link in parsed.links) == 3
  distances = [float(r[4]) for r in parsed.rows]
  assert distances == sorted(distances)
  assert sorted(distances) == sorted(round(d, 2) for d in listing["distances"])


def test_page_links_sorting_and_missing_parts(tmp_path):
  (tmp_path / "run" / "gen").mkdir(parents=True)
  paths = []
  for i, d in enumerate([3.5, 1.25, 9.0]):
    midi = midi_io.write_midi(_roll(4, [{60 + i}] * 4), tmp_path / "run" / "gen" / f"a b{i}.mid")
    paths.append(midi)
    if i != 2:
      (tmp_path / "run" / "gen" / f"a b{i}.png").write_bytes(b"png")
  (tmp_path / "run" / "gen" / "a b1.wav").write_bytes(b"wav")
  hist = tmp_path / "run" / "h.png"
  hist.write_bytes(b"png")
  rows = page.rows_for(paths, [3.5, 1.25, 9.0], ["coherent", "like the corpus", "random"])
  rows.append(page.PieceRow("none", paths[0]))
  path = page.write_page(tmp_path / "run", "t <1>", rows, ["v & w"], {"a": {"b": 1}}, hist)
  parsed = check_links(path)
  # Sorted by distance; the row without one last. Names with spaces are URL-quoted.
  assert [r[1] for r in parsed.rows] == ["a b1", "a b0", "a b2", "none"]
  assert [r[4] for r in parsed.rows] == ["1.25", "3.50", "9.00", ""]
  assert "gen/a%20b1.wav" in parsed.links and "h.png" in parsed.links
  assert [r[3] for r in parsed.rows].count("no audio") == 3
  assert parsed.rows[2][2] == "no picture"
  text = pathlib.Path(path).read_text()
  assert "t &lt;1&gt;" in text and "v &amp; w" in text and "a.b" in text


def test_generate_without_synth_still_writes_everything(trained, tmp_path, monkeypatch,
                                                        capsys):
  monkeypatch.setitem(sys.modules, "tinysoundfont", None)
  audio._synth.cache_clear()  # pylint: disable=protected-access
  try:
    assert generate.main(["--checkpoint", str(trained), "--n", "2", "--out_dir",
                          str(tmp_path)]) == 0
  finally:
    audio._synth.cache_clear()  # pylint: disable=protected-access
  assert "audio skipped: no synthesizer" in capsys.readouterr().out
  assert len(list(tmp_path.glob("*.mid"))) == 2 and not list(tmp_path.glob("*.wav"))
  assert "audio skipped" in (tmp_path / "index.html").read_text()
  check_links(tmp_path / "index.html")


def _chromium():
  for name in ("chromium", "chromium-browser", "google-chrome"):
    if shutil.which(name):
      return shutil.which(name)
  return None


def screenshot(page_path, png_path, size=(1000, 900)):
  """Renders a page in headless Chromium into `png_path`; returns an `[h, w, 3]` array."""
  from matplotlib import image  # pylint: disable=g-import-not-at-top
  proc = subprocess.run(
      [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
       "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
       f"--window-size={size[0]},{size[1]}", f"--screenshot={png_path}",
       pathlib.Path(page_path).resolve().as_uri()],
      capture_output=True, text=True, timeout=120, check=False,
      env={**os.environ, "HOME": str(pathlib.Path(png_path).parent)})
  assert proc.returncode == 0 and os.path.exists(png_path), proc.stderr[-2000:]
  return image.imread(png_path)[..., :3]


@pytest.mark.skipif(_chromium() is None, reason="no Chromium installed")
def test_page_renders_the_pieces_in_chromium(tmp_path):
  from draw_music import plotting  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(1)
  paths = []
  for i in range(3):
    midi = midi_io.write_midi(helpers.random_roll(rng, 104, 0.3), tmp_path / f"p{i}.mid")
    plotting.plt.close(plotting.plot_piano_roll(midi_io.read_midi(midi),
                                                tmp_path / f"p{i}.png"))
    paths.append(midi)
  with_rows = page.write_page(tmp_path, "run", page.rows_for(paths, [2.0, 1.0, 3.0]))
  shot = screenshot(with_rows, tmp_path / "with.png")
  empty = page.write_page(tmp_path / "empty", "run", [])
  blank = screenshot(empty, tmp_path / "without.png")
  # Below the title and the table's header (y >= 100), the rows' piano rolls and text ink
  # most lines of pixels of the three rows (3 x ~130 px); without rows it is all white.
  inked = lambda img: float((img[100:].min(axis=(1, 2)) < 0.5).mean())
  assert inked(blank) == 0.0
  assert inked(shot) > 0.2


def test_listen_notebook_plays_the_run(tmp_path):
  from draw_music import results  # pylint: disable=g-import-not-at-top
  from tests import notebooks  # pylint: disable=g-import-not-at-top
  gen = tmp_path / "generated"
  rows = []
  for i, d in enumerate([5.0, 2.0, 9.0, 3.0]):
    midi = midi_io.write_midi(_roll(16, [{60 + i}] * 16), gen / f"piece_{i:03d}.mid")
    rows.append({"set": "generated", "item": f"piece_{i:03d}.mid", "distance": d,
                 "category": "coherent"})
    if i != 3:  # piece 3 has no audio
      audio.write_wav(np.zeros((100, 2)), gen / f"piece_{i:03d}.wav")
    del midi
  rows.append({"set": "corpus", "item": "chunk_0", "distance": 1.0, "category": "x"})
  results.write_csv(tmp_path / "distances.csv", rows)
  nb = notebooks.run_notebook("listen.ipynb", tmp_path)
  text = lambda cell: "".join(o.get("text", "") for o in cell.outputs)
  audio_outputs = lambda cell: sum("<audio" in o.get("data", {}).get("text/html", "")
                                   for o in cell.outputs)
  best, worst = nb.cells[2], nb.cells[3]
  # Sorted by distance: best 1 (2.0), 3 (3.0), 0 (5.0); worst 3, 0, 2 (9.0).
  assert [ln.split(":")[0] for ln in text(best).splitlines()[1:] if ln.startswith("piece")] \
      == ["piece_001", "piece_003", "piece_000"]
  assert audio_outputs(best) == 2 and "no audio" in text(best)
  assert "piece_002: distance 9.00" in text(worst) and audio_outputs(worst) == 2


def test_seam_windows_by_hand():
  from draw_music.writer import seams  # pylint: disable=g-import-not-at-top
  inside, seam = seams.window_starts(512, 104)
  np.testing.assert_array_equal(inside, [0, 104, 208, 312])  # 416 + 104 > 512
  np.testing.assert_array_equal(seam, [52, 156, 260, 364])
  # 5 pieces of 3 chunks of 8 steps; piece i is marked by pitch 20 + i on every step.
  pieces = np.zeros((5, 24, 128), bool)
  for i in range(5):
    pieces[i, :, 20 + i] = True
    pieces[i, :, 100] = np.arange(24) >= 4  # a marker of the position
  ins, sea, ins_at, sea_at = seams.one_window_per_piece(pieces, 8)
  np.testing.assert_array_equal(ins_at, [0, 8, 16])   # pieces 0, 2, 4
  np.testing.assert_array_equal(sea_at, [4, 12])       # pieces 1, 3
  assert [int(np.nonzero(w[0, :100])[0][0]) for w in ins] == [20, 22, 24]
  np.testing.assert_array_equal(sea[0], pieces[1, 4:12])
  # jumps: a window of 4 steps, {60} then {72, 76}: density 1 -> 2, register 60 -> 74,
  # nothing held over the middle.
  window = _roll(4, [{60}, {60}, {72, 76}, {72, 76}])
  density, register, held = seams.jumps(np.stack([window, _roll(4, [{50}] * 4)]))
  np.testing.assert_allclose(density, [1.0, 0.0])
  np.testing.assert_allclose(register, [14.0, 0.0])
  np.testing.assert_allclose(held, [0.0, 1.0])


def test_train_baseline_writes_audio_and_page(tmp_path):
  from tests.conftest import REPO  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(2)
  corpus = helpers.write_corpus(tmp_path / "corpus",
                                [helpers.random_roll(rng, 16 * 12, 0.4) for _ in range(4)])
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.train_baseline", "--config=tiny",
       f"--corpus={corpus}", f"--out_dir={tmp_path / 'run'}", "--max_steps=2",
       "--num_generate=4", "--num_permutations=10"], cwd=REPO, capture_output=True,
      text=True, check=False, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
  assert proc.returncode == 0, proc.stderr[-3000:]
  parsed = check_links(tmp_path / "run" / "index.html")
  assert len(parsed.rows) == 4 and "distance_histogram.png" in parsed.links
  distances = [float(r[4]) for r in parsed.rows]
  assert distances == sorted(distances)
  page_text = (tmp_path / "run" / "index.html").read_text()
  assert "<h1>DRAW, config tiny: 2 steps on " in page_text   # the config it ran, by name
  if audio.audio_or_reason()[0]:
    assert len(list((tmp_path / "run" / "generated").glob("*.wav"))) == 4
    assert sum(link.endswith(".wav") for link in parsed.links) == 4


def test_evaluate_writes_a_page(tmp_path, capsys):
  from draw_music.metric import evaluate  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(3)
  reference = helpers.write_corpus(tmp_path / "ref", [helpers.random_roll(rng, 64, 0.4)
                                                       for _ in range(6)])
  pieces = helpers.write_corpus(tmp_path / "pieces", [
      helpers.random_roll(rng, 32, d, 40, 100) for d in (0.1, 0.5, 0.9)])
  out = tmp_path / "page"
  assert evaluate.main(["--reference", str(reference), "--pieces", str(pieces),
                        "--chunk_steps", "16", "--out_dir", str(out)]) == 0
  assert f"wrote {out / 'index.html'}" in capsys.readouterr().out
  parsed = check_links(out / "index.html")
  result = evaluate.evaluate_paths(reference, [pieces], 16)
  expect = sorted((p["distance"], pathlib.Path(p["file"]).stem) for p in result["pieces"])
  assert [r[1] for r in parsed.rows] == [name for _, name in expect]
  assert [r[4] for r in parsed.rows] == [f"{d:.2f}" for d, _ in expect]
  assert sum(link.endswith(".mid") for link in parsed.links) == 3


def test_seam_continuity_experiment_with_overlapping_chunks(trained, tmp_path):
  from tests.conftest import REPO  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(2)
  corpus = helpers.write_corpus(tmp_path / "corpus",
                                [helpers.random_roll(rng, 16 * 5, 0.3) for _ in range(4)])
  out = tmp_path / "seams"
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.seam_continuity", f"--checkpoint={trained}",
       f"--corpus={corpus}", "--n=12", "--beats=6", "--candidates=3",
       "--seam_method=overlap", "--num_permutations=20", f"--out_dir={out}"],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  result = json.loads((out / "seam_continuity.json").read_text())
  assert result["run"]["config"]["seam_method"] == "overlap"
  # 6 beats = 48 steps: joins at 16, 24, 32, 40, windows from 8, 16 and 24 fit; one whole
  # chunk (at 0) per even piece: 6 inside and 6 seam windows for each of the two runs.
  for method in ("chained", "plain"):
    assert result[method]["set_level"]["num_ref"] == 6
    assert result[method]["set_level"]["num_other"] == 6
  assert (out / "seam_continuity.png").exists()
