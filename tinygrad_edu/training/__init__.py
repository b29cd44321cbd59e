"""Training: the layers above the engine that turn a spec into a trained run folder.

Reading order: `objectives` (what a loss means for training: targets, metrics), `loop` (the
`Trainer`: epochs, checkpoints, NaN stop, Ctrl-C), `progress` (what the terminal shows),
`runs` (run folders, evaluate, predict), `lock` (one process per run folder), `checkpoint`
(atomic files), `sweep` (one run per value of a field).
"""
