"""Stage 2, the measure: how far a piece, or a set of pieces, is from a reference corpus.

`features` computes the paper's 17-feature signature of a piano roll and
`features_extended` the wider `extended` signature; `measure` gives the paper's Mahalanobis
distance of a piece to a corpus and its Table II category; `set_measures` judges a set of
signatures as a whole (Fréchet distance, MMD test, per-feature KS tests); `evaluate` scores
MIDI files against a reference folder (`python -m draw_music.metric.evaluate`);
`style_separation` and `composer_separation` check that the measures tell corpora and
composers apart.
"""
