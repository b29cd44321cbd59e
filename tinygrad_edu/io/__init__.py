"""Files, the safe way: what every layer above the engine reads and writes.

Reading order: `atomic` (atomic writes; which destinations may be written and how),
`reading` (which files may be read: regular ones, sizes bounded first), `npz` (flat
``.npz`` files without pickle: checkpoints, model files, snapshots), `safetensors_format`
(the ``.safetensors`` bytes, header checked first) and `safetensors` (a model's weights in
it), `serialization` (``tg.save`` / ``tg.load``). Above the engine only: nothing here
knows about specs, runs or training.
"""
