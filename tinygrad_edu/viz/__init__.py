"""Pictures: `graphviz` writes the DOT text of any `Value` or `Tensor` graph, `graphs` the
graph of one training step of a spec's model, and `plots` a run's or sweep's PNGs."""
