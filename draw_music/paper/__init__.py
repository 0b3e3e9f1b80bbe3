"""Stage 4, the paper's experiments: the library code behind its figures and tables.

`validation` is the metric's validation (Fig. 1); `reproduce` the binarisation threshold
and the quality along the DRAW steps (Fig. 5, 6); `search` the random architecture search
(Table I); `tree` the decision tree over the searched architectures (Table II). The command
lines that run them are in `experiments/`.
"""
