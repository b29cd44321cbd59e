"""Training: the layers above the engine that turn a spec into trained weights.

Reading order: `layout` (the run folder's file names), `optimizers` (the spec's optimizer
and schedule; what a loss means is `tinygrad_edu.objectives`, row 4), `divergence`
(what to say when the loss becomes NaN), `hidden` (hidden layers, their activations, dead
units), `diagnostics` (per-layer numbers and weight snapshots per epoch), `loop` (the
`Trainer`: epochs, checkpoints, NaN stop, Ctrl-C), `progress` (what the terminal shows),
`tensorboard`, `scalar` (the same training on the scalar engine). Starting, resuming and
using run folders, and sweeps, are `tinygrad_edu.runs`; files are written by
`tinygrad_edu.io`. Nothing here imports `runs`, `viz` or `export`.
"""
