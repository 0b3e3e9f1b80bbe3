"""The `writer` recipe's parts: note decoding, density matching, windows, transposition, config."""

import dataclasses
import json

import numpy as np
import pytest

from draw_music.writer import model as model_lib
from draw_music.writer import pipeline
from draw_music.writer import postprocess
from draw_music.writer import train
from tests import helpers


# ------------------------------------------------------------------------------ decoding


def test_decode_notes_by_hand():
  # One piece, 8 steps, 3 pitches (pitch axis last), lopsided on purpose.
  values = np.zeros((1, 8, 3))
  values[0, :, 0] = [0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6]  # two one-step seeds
  values[0, :, 1] = [0.1, 0.6, 0.3, 0.35, 0.9, 0.1, 0.7, 0.2]  # a held note, a short one
  values[0, :, 2] = [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]  # held level, never a seed
  before = values.copy()
  # on 0.5, held above 0.25: pitch 1 runs 1..4 (seeded by 0.6 and 0.9) and 6 (0.7).
  got = postprocess.decode_notes(values, on=0.5, hold=0.5, min_steps=1)[0]
  want = np.zeros((8, 3), bool)
  want[[0, 7], 0] = True
  want[1:5, 1] = True
  want[6, 1] = True
  np.testing.assert_array_equal(got, want)
  # min_steps 2 drops the one-step notes, keeps the four-step one.
  got = postprocess.decode_notes(values, on=0.5, hold=0.5, min_steps=2)[0]
  want = np.zeros((8, 3), bool)
  want[1:5, 1] = True
  np.testing.assert_array_equal(got, want)
  # hold 1 is a plain threshold: 0.3 and 0.35 fall below 0.5, the note breaks.
  got = postprocess.decode_notes(values, on=0.5, hold=1.0, min_steps=1)[0]
  np.testing.assert_array_equal(np.flatnonzero(got[:, 1]), [1, 4, 6])
  np.testing.assert_array_equal(values, before)


def test_decode_notes_per_piece_thresholds_and_bad_arguments():
  values = np.stack([np.full((4, 2), 0.3), np.full((4, 2), 0.3)])
  got = postprocess.decode_notes(values, on=np.array([0.2, 0.4]), hold=0.5, min_steps=1)
  assert got[0].all() and not got[1].any()
  with pytest.raises(ValueError, match="hold"):
    postprocess.decode_notes(values, 0.5, hold=0.0)
  with pytest.raises(ValueError, match="min_steps"):
    postprocess.decode_notes(values, 0.5, min_steps=0)


def test_density_matching_gives_the_requested_cells_with_a_plain_threshold():
  rng = np.random.default_rng(1)
  values = rng.random((5, 16, 12))  # distinct values: every count is reachable
  targets = np.array([0, 1, 37, 100, 192])
  rolls, thresholds = postprocess.decode_to_density(values, targets, hold=1.0, min_steps=1)
  np.testing.assert_array_equal(rolls.sum(axis=(1, 2)), targets)
  # The k largest cells, as numpy's sort finds them.
  for roll, v, k in zip(rolls, values, targets):
    top = np.sort(v.ravel())[::-1][:k]
    assert set(v[roll].tolist()) == set(top.tolist())


def test_density_matching_with_hysteresis_is_as_close_as_any_threshold():
  rng = np.random.default_rng(2)
  values = rng.random((4, 24, 10)) ** 3
  targets = np.array([5, 30, 60, 90])
  rolls, _ = postprocess.decode_to_density(values, targets, hold=0.6, min_steps=2)
  for roll, v, k in zip(rolls, values, targets):
    # Brute force: the count of every threshold between consecutive cell values.
    levels = np.unique(np.concatenate([[0.0], v.ravel(), v.ravel() / 0.6]))
    counts = np.array([postprocess.decode_notes(v[None], t, 0.6, 2).sum() for t in levels])
    assert abs(int(roll.sum()) - k) == np.abs(counts - k).min()


def test_density_matching_returns_the_rolls_of_its_thresholds_on_lopsided_pieces():
  # Ties (values on a 0.1 grid), a silent piece, target 0, a target above every count, and
  # one piece far denser than the others: each piece's rolls are decode_notes at its own
  # threshold, and no threshold on the brute-force grid comes nearer its target.
  rng = np.random.default_rng(5)
  values = np.round(rng.random((6, 20, 9)) ** 2, 1)
  values[1] = 0.0
  values[4] = np.round(0.5 + rng.random((20, 9)) / 2, 1)
  targets = np.array([12, 0, 0, 500, 150, 40])
  rolls, thresholds = postprocess.decode_to_density(values, targets, hold=0.5, min_steps=3)
  for roll, v, k, t in zip(rolls, values, targets, thresholds):
    np.testing.assert_array_equal(roll, postprocess.decode_notes(v[None], t, 0.5, 3)[0])
    levels = np.unique(np.concatenate([[0.0], v.ravel(), v.ravel() / 0.5]))
    counts = np.array([postprocess.decode_notes(v[None], x, 0.5, 3).sum() for x in levels])
    assert abs(int(roll.sum()) - k) == np.abs(counts - k).min()
  assert not rolls[1].any() and not rolls[2].any()


def test_bridge_gaps_by_hand():
  roll = np.zeros((1, 10, 4), bool)
  roll[0, [0, 1, 3, 4], 0] = True        # gap of 1 at step 2, nothing else starts: joined
  roll[0, [0, 1, 5, 6], 1] = True        # gap 2..4 (3 steps), pitch 3 starts at 4: kept
  roll[0, 4, 3] = True
  roll[0, [7, 9], 2] = True              # gap of 1 at step 8, nothing starts in 8..9: joined
  before = roll.copy()
  got = postprocess.bridge_gaps(roll, 3)[0]
  want = before[0].copy()
  want[2, 0] = True
  want[8, 2] = True
  np.testing.assert_array_equal(got, want)
  # A gap longer than max_gap stays, even with nothing starting in it.
  np.testing.assert_array_equal(postprocess.bridge_gaps(roll, 0), roll)
  lone = np.zeros((1, 8, 1), bool)
  lone[0, [0, 6], 0] = True
  np.testing.assert_array_equal(postprocess.bridge_gaps(lone, 4), lone)
  assert postprocess.bridge_gaps(lone, 5)[0, :7, 0].all()
  np.testing.assert_array_equal(roll, before)


def test_bridge_gaps_against_a_loop():
  rng = np.random.default_rng(8)
  rolls = rng.random((6, 30, 9)) < 0.15
  got = postprocess.bridge_gaps(rolls, 3)
  want = rolls.copy()
  for i, roll in enumerate(rolls):
    onsets = roll & ~np.vstack([np.zeros((1, 9), bool), roll[:-1]])
    for p in range(9):
      t = np.flatnonzero(roll[:, p])
      for end, start in zip(t[:-1], t[1:]):
        if 1 < start - end <= 4:
          others = onsets[end + 1:start + 1].sum() - 1
          if others == 0:
            want[i, end + 1:start, p] = True
  np.testing.assert_array_equal(got, want)


def test_to_rolls_paper_is_binarize_and_notes_uses_the_expected_cells():
  rng = np.random.default_rng(3)
  canvases = rng.random((3, 16, 20)) ** 4
  np.testing.assert_array_equal(postprocess.to_rolls(canvases, "paper", alpha=0.3),
                                postprocess.binarize(canvases, 0.3))
  rolls = postprocess.to_rolls(canvases, "notes", hold=1.0, min_note_steps=1)
  np.testing.assert_array_equal(rolls.sum(axis=(1, 2)), np.round(canvases.sum(axis=(1, 2))))
  with pytest.raises(ValueError, match="decoder"):
    postprocess.to_rolls(canvases, "beam")


def test_density_targets_follow_the_corpus_in_the_models_order():
  model_expected = np.array([10.0, 20.0, 30.0, 40.0])  # the model's reference draw
  corpus = np.array([100, 300, 200, 500, 400])         # quantiles 100 .. 500
  # Mid-ranks 0, 1.5 (ties 20 once: between 1 and 2), 4 -> q = (rank + .5) / 5.
  got = postprocess.density_targets(np.array([5.0, 20.0, 45.0]), model_expected, corpus)
  want = np.round(np.quantile(corpus, [0.5 / 5, 2.0 / 5, 4.5 / 5]))
  np.testing.assert_array_equal(got, want)
  assert got[0] < got[1] < got[2]  # the model's order is kept


def test_grid_decoding_puts_notes_on_the_grid():
  rng = np.random.default_rng(9)
  canvases = rng.random((4, 16, 12)) ** 3
  rolls = postprocess.to_rolls(canvases, "notes", hold=1.0, min_note_steps=1,
                               targets=np.array([20, 30, 40, 50]), grid_steps=2)
  # Every step pair is on or off together, and the coarse cells are the top ones of the
  # pairwise maxima (hold 1, no minimum: a plain density-matched threshold).
  np.testing.assert_array_equal(rolls[:, 0::2], rolls[:, 1::2])
  coarse = canvases.reshape(4, 8, 2, 12).max(axis=2)
  for roll, c, k in zip(rolls[:, 0::2], coarse, [10, 15, 20, 25]):
    assert roll.sum() == k
    assert c[roll].min() > c[~roll].max()
  with pytest.raises(ValueError, match="grid_steps"):
    postprocess.to_rolls(canvases, "notes", grid_steps=3)


def _peaks_by_loop(values):
  """`postprocess.pitch_peaks` written cell by cell."""
  out = np.zeros(values.shape)
  for index in np.ndindex(values.shape[:-1]):
    row = values[index]
    for p, v in enumerate(row):
      below = row[p - 1] if p > 0 else 0.0
      above = row[p + 1] if p + 1 < len(row) else 0.0
      if v >= below and v > above:
        out[index + (p,)] = v
  return out


def test_pitch_peaks_by_hand_and_against_a_loop():
  row = np.array([0.1, 0.5, 0.4, 0.0, 0.3, 0.3, 0.2, 0.7])
  # 0.5 beats both neighbours; of the equal 0.3s the upper stays; 0.7 at the top edge.
  want = np.array([0.0, 0.5, 0.0, 0.0, 0.0, 0.3, 0.0, 0.7])
  np.testing.assert_array_equal(postprocess.pitch_peaks(row[None]), want[None])
  rng = np.random.default_rng(4)
  values = np.round(rng.random((3, 5, 17)), 1)   # rounded: ties happen
  got = postprocess.pitch_peaks(values)
  np.testing.assert_array_equal(got, _peaks_by_loop(values))
  on = got > 0
  assert not (on[..., 1:] & on[..., :-1]).any()  # never two neighbouring semitones
  assert values.sum() > got.sum() > 0
  with pytest.raises(ValueError, match="time, pitch"):
    postprocess.pitch_peaks(np.zeros(4))


def test_pitch_peaks_give_the_density_to_the_pieces_other_notes():
  # One piece: a likely note at pitch 10 with its blur at 11 (less likely) for 8 steps, and
  # a quieter note at pitch 3 (8 steps). Two notes' worth of cells (16) are asked for.
  canvas = np.zeros((1, 8, 16))
  canvas[0, :, 10], canvas[0, :, 11], canvas[0, :, 3] = 0.9, 0.6, 0.4
  plain = postprocess.to_rolls(canvas, "notes", hold=0.6, min_note_steps=2,
                               targets=np.array([16]))
  peaks = postprocess.to_rolls(canvas, "notes", hold=0.6, min_note_steps=2,
                               targets=np.array([16]), peaks=True)
  np.testing.assert_array_equal(np.flatnonzero(plain[0].any(0)), [10, 11])
  np.testing.assert_array_equal(np.flatnonzero(peaks[0].any(0)), [3, 10])
  assert peaks.sum() == plain.sum() == 16


# ------------------------------------------------------------------------------- windows


def test_windows_start_on_the_grid_inside_each_piece_and_skip_silence():
  a = np.zeros((40, 128), bool)
  a[0:3, 60] = True           # notes only in the first 3 steps and at step 35
  a[35, 72] = True
  b = np.zeros((20, 128), bool)
  b[10, 40] = True
  table, starts, piece = pipeline.windows([a, b], chunk_steps=16, grid=8)
  # Piece a: starts 0, 8, 16, 24 (24 + 16 = 40); 8 (steps 8..23) and 16 (16..31) are
  # silent. Piece b (rows 40..59): start 0 only (20 - 16 = 4 < 8), holding step 10.
  np.testing.assert_array_equal(starts, [0, 24, 40])
  np.testing.assert_array_equal(piece, [0, 0, 1])
  np.testing.assert_array_equal(table, np.concatenate([a, b]))
  # The paper's chunks are the windows on a grid of one chunk length.
  _, starts, _ = pipeline.windows([a, b], chunk_steps=16, grid=16, drop_empty=False)
  np.testing.assert_array_equal(starts, [0, 16, 40])


def test_transposed_window_is_the_window_shifted():
  rng = np.random.default_rng(4)
  rolls = [helpers.random_roll(rng, 16 * k, 0.5) for k in (3, 4, 5)]
  table, starts, piece = pipeline.windows(rolls, 16, 4)
  ds = pipeline.make_window_dataset(table, starts, piece, 16, 3, "paper", seed=5,
                                    transpose=4)
  plan = pipeline.window_plan(piece, 3, "paper", seed=5, transpose=4, num_epochs=1)
  indices, shifts = next(plan)
  batches = list(ds.take(2).as_numpy_iterator())
  assert np.abs(shifts).max() <= 4 and len(np.unique(shifts)) > 1
  for batch, idx, shift in zip(batches, indices, shifts):
    for x, i, s in zip(batch, idx, shift):
      original = table[starts[i]:starts[i] + 16]
      t, p = np.nonzero(original)
      keep = (p + s >= 0) & (p + s < 128)
      want = np.zeros((16, 128), bool)
      want[t[keep], p[keep] + s] = True
      np.testing.assert_array_equal(x.astype(bool), want)
  # Each paper batch holds windows of distinct pieces.
  assert all(len(set(piece[row])) == 3 for row in indices)


def test_windows_on_a_grid_of_one_chunk_are_the_papers_chunks_in_order():
  from draw_music.corpora import corpus as corpus_lib  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(11)
  rolls = [helpers.random_roll(rng, n, 0.2) for n in (50, 16 * 5 + 7, 16 * 3, 16 * 9 + 15)]
  rolls[2][16:32] = False                            # a silent chunk: dropped by both
  chunks, piece_index = corpus_lib.corpus_chunks(rolls, 16)
  table, starts, window_piece = pipeline.windows(rolls, 16, 16)
  np.testing.assert_array_equal(np.stack([table[s:s + 16] for s in starts]), chunks)
  np.testing.assert_array_equal(window_piece, piece_index)
  batch = next(iter(pipeline.make_window_dataset(table, starts, window_piece, 16, 4,
                                                 "shuffled", seed=2, repeat=False)))
  got = {b.tobytes() for b in batch.numpy().astype(bool)}
  assert got <= {c.tobytes() for c in chunks} and len(got) == 4


def test_no_transposition_gives_the_plain_windows():
  rng = np.random.default_rng(5)
  rolls = [helpers.random_roll(rng, 40, 0.5), helpers.random_roll(rng, 56, 0.5)]
  table, starts, piece = pipeline.windows(rolls, 16, 8)
  ds = pipeline.make_window_dataset(table, starts, piece, 16, 2, "shuffled", seed=0)
  indices = next(pipeline.window_plan(piece, 2, "shuffled", seed=0))[0]
  x = next(iter(ds)).numpy()
  for row, i in zip(x, indices[:2]):
    np.testing.assert_array_equal(row.astype(bool), table[starts[i]:starts[i] + 16])


# -------------------------------------------------------------------------------- config


def test_writer_config_is_the_paper_architecture_plus_its_levers():
  paper, writer = model_lib.get_config("baseline"), model_lib.get_config("writer")
  same = ("chunk_steps", "latent_dim", "num_steps", "enc_units", "dec_units", "batch_size",
          "learning_rate", "beta_1", "beta_2", "attention")
  assert all(getattr(paper, f) == getattr(writer, f) for f in same)
  assert (writer.decoder, writer.hold, writer.min_note_steps, writer.bridge_steps,
          writer.grid_steps, writer.density, writer.odd_onsets) == (
              "notes", 0.6, 2, 4, 2, "corpus", "corpus")
  assert paper.odd_onsets == "none"
  assert writer.pitch_peaks and not paper.pitch_peaks
  assert (writer.offset_grid, writer.transpose) == (0, 0)
  assert (writer.holdout, writer.select_every) == (0, 0)  # measured, not in the recipe
  assert (paper.holdout, paper.select_every) == (0, 0)
  assert writer.compute_dtype == ("bfloat16" if model_lib.cpu_has_bf16_matmuls()
                                  else "float32")
  assert (paper.offset_grid, paper.transpose, paper.decoder) == (0, 0, "paper")
  with pytest.raises(ValueError, match="offset_grid"):
    dataclasses.replace(paper, transpose=3)
  with pytest.raises(ValueError, match="decoder"):
    dataclasses.replace(paper, decoder="sample")
  with pytest.raises(ValueError, match="pitch_peaks.*decoder='notes'"):
    dataclasses.replace(paper, pitch_peaks=True)
  with pytest.raises(ValueError, match="pitch_peaks must be a bool"):
    dataclasses.replace(writer, pitch_peaks=1)


TINY_WRITER = dataclasses.replace(model_lib.get_config("tiny"), offset_grid=4, transpose=2,
                                  decoder="notes", hold=0.6, min_note_steps=2)


@pytest.fixture(scope="module")
def corpus():
  rng = np.random.default_rng(6)
  rolls = [helpers.random_roll(rng, 16 * k, 0.4) for k in (3, 5, 2, 6, 4, 3)]
  chunks = np.concatenate([r.reshape(-1, 16, 128) for r in rolls])
  piece_index = np.concatenate([np.full(len(r) // 16, i) for i, r in enumerate(rolls)])
  return rolls, chunks, piece_index


def test_pitch_peaks_flag_sets_the_config_and_needs_the_note_decoder():
  got = helpers.train_baseline_config(("pitch_peaks",), "--config=writer", "--nopitch_peaks")
  assert got.stdout.split() == ["False"]
  got = helpers.train_baseline_config(("pitch_peaks",), "--config=baseline", "--pitch_peaks")
  assert got.returncode != 0 and "pitch_peaks" in got.stderr and "decoder='notes'" in got.stderr


def test_writer_config_round_trips_through_a_checkpoint_and_resumes(tmp_path, corpus):
  rolls, chunks, piece_index = corpus
  cfg = train.TrainConfig(max_steps=3, checkpoint_every=2, verbose=False, seed=1)
  train.train(TINY_WRITER, chunks, piece_index, tmp_path, cfg, rolls=rolls)
  stored, _ = train.load_run_config(tmp_path)
  assert stored == TINY_WRITER
  more = train.train(TINY_WRITER, chunks, piece_index, tmp_path,
                     dataclasses.replace(cfg, max_steps=5), rolls=rolls)
  assert more["resumed_from"] == 3 and more["step"] == 5
  model, _ = train.load_trained(tmp_path)
  assert model.config == TINY_WRITER
  with pytest.raises(ValueError, match="rolls"):
    train.train(TINY_WRITER, chunks, piece_index, tmp_path / "x", cfg)


def test_windows_come_only_from_the_pieces_not_held_out(tmp_path, corpus, monkeypatch):
  from draw_music.writer import selection  # pylint: disable=g-import-not-at-top
  rolls, chunks, piece_index = corpus
  seen = []
  windows = pipeline.windows
  monkeypatch.setattr(pipeline, "windows", lambda r, *a, **k: seen.append(r) or windows(r, *a, **k))
  config = dataclasses.replace(TINY_WRITER, holdout=0.25, select_every=2, select_pieces=8)
  train.train(config, chunks, piece_index, tmp_path,
              train.TrainConfig(max_steps=2, verbose=False, seed=4), rolls=rolls)
  held = selection.holdout_pieces(piece_index, 0.25, 4)
  assert len(seen) == 1 and len(held) >= 1
  for i, roll in enumerate(seen[0]):
    assert len(roll) == (0 if i in held else len(rolls[i]))


def test_a_run_written_before_the_writer_fields_still_resumes(tmp_path, corpus):
  _, chunks, piece_index = corpus
  tiny = model_lib.get_config("tiny")
  cfg = train.TrainConfig(max_steps=2, checkpoint_every=2, verbose=False)
  train.train(tiny, chunks, piece_index, tmp_path, cfg)
  path = tmp_path / "config.json"
  record = json.loads(path.read_text())
  for name in ("offset_grid", "transpose", "decoder", "hold", "min_note_steps"):
    del record["model"][name]
  path.write_text(json.dumps(record))
  out = train.train(tiny, chunks, piece_index, tmp_path,
                    dataclasses.replace(cfg, max_steps=4))
  assert out["resumed_from"] == 2 and out["step"] == 4


@pytest.fixture(scope="module")
def trained_writer(tmp_path_factory, corpus):
  rolls, chunks, piece_index = corpus
  out_dir = tmp_path_factory.mktemp("writer")
  train.train(TINY_WRITER, chunks, piece_index, out_dir,
              train.TrainConfig(max_steps=3, verbose=False), rolls=rolls)
  return out_dir


def test_corpus_density_decoder_reads_the_training_folder(trained_writer, corpus):
  from draw_music.writer import generate  # pylint: disable=g-import-not-at-top
  _, chunks, _ = corpus
  model, _ = train.load_trained(trained_writer)
  np.testing.assert_array_equal(model.corpus_cells,
                                np.sort(chunks.reshape(len(chunks), -1).sum(axis=1)))
  model.config = dataclasses.replace(model.config, density="corpus", grid_steps=2)
  canvases, rolls = generate.generate_rolls(model, 5, alpha=0.25, seed=3)
  targets = postprocess.density_targets(
      canvases.astype(np.float64).sum(axis=(1, 2)),
      generate.density_reference(model), model.corpus_cells)
  want = postprocess.to_rolls(canvases, "notes", hold=0.6, min_note_steps=2,
                              targets=targets, grid_steps=2)
  np.testing.assert_array_equal(rolls, want)
  model.corpus_cells = None
  with pytest.raises(ValueError, match="corpus_density.json"):
    generate.generate_rolls(model, 2, alpha=0.25, seed=3)


def test_generated_pieces_use_the_configs_decoder(trained_writer):
  from draw_music.writer import generate  # pylint: disable=g-import-not-at-top
  model, _ = train.load_trained(trained_writer)
  canvases, rolls = generate.generate_rolls(model, 6, alpha=0.25, seed=7)
  # The canvases are the sampler's last ones, made without the steps between.
  assert canvases.shape == (6, model.config.chunk_steps, 128)
  np.testing.assert_allclose(canvases, model.sample(6, seed=7).numpy()[:, -1], atol=1e-6)
  want = postprocess.decode_to_density(canvases.astype(np.float64),
                                       np.round(canvases.astype(np.float64)
                                                .sum(axis=(1, 2))), 0.6, 2)[0]
  np.testing.assert_array_equal(rolls, want)
  assert not np.array_equal(rolls, postprocess.binarize(canvases, 0.25))


def test_model_report_draws_generated_beside_corpus(trained_writer, corpus, tmp_path):
  from draw_music.writer import report  # pylint: disable=g-import-not-at-top
  _, chunks, piece_index = corpus
  model, _ = train.load_trained(trained_writer)
  out = report.model_report(model, chunks, piece_index, tmp_path, n=20, seed=1,
                            num_permutations=20)
  assert (tmp_path / "generated_vs_corpus.png").stat().st_size > 10_000
  assert out["num_pieces"] == 20


def test_generate_with_a_reference_draws_pieces_beside_its_chunks(trained_writer, tmp_path):
  from draw_music.writer import generate  # pylint: disable=g-import-not-at-top
  reference = helpers.write_corpus(tmp_path / "ref", [
      helpers.random_roll(np.random.default_rng(i), 64, 0.4) for i in range(6)])
  out = tmp_path / "gen"
  assert generate.main(["--checkpoint", str(trained_writer), "--n", "3", "--no-audio",
                        "--reference", str(reference), "--out_dir", str(out)]) == 0
  assert (out / "generated_vs_corpus.png").stat().st_size > 5_000


def test_resuming_may_change_how_canvases_become_notes_but_not_the_model(tmp_path, corpus):
  rolls, chunks, piece_index = corpus
  cfg = train.TrainConfig(max_steps=2, checkpoint_every=2, verbose=False)
  train.train(TINY_WRITER, chunks, piece_index, tmp_path, cfg, rolls=rolls)
  decoding = dataclasses.replace(TINY_WRITER, grid_steps=2, hold=0.9, density="corpus")
  out = train.train(decoding, chunks, piece_index, tmp_path, cfg, rolls=rolls)
  assert out["resumed_from"] == 2 and out["step"] == 2
  assert train.load_run_config(tmp_path)[0] == decoding
  with pytest.raises(train.ConfigMismatch):
    train.train(dataclasses.replace(decoding, latent_dim=4), chunks, piece_index, tmp_path,
                cfg, rolls=rolls)
