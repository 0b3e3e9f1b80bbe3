"""Stage 3, the writer: the DRAW model, its training, and what it generates.

`model` is DRAW on piano-roll chunks and `optim` its fused Adam; `pipeline` makes the
training batches, `train` trains with checkpoints and `selection` picks a checkpoint by the
set-level distance to held-out pieces; `latent` encodes and decodes DRAW's latents;
`postprocess` binarises a canvas; `generate` writes pieces from a trained run
(`python -m draw_music.writer.generate`), `seams` checks how long pieces hold together at
their chunk seams, `interpolate` morphs one piece into another
(`python -m draw_music.writer.interpolate`), and `report` generates and judges a trained
model's pieces against its corpus.
"""
