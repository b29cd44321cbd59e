"""PyTorch's dtype names at the package level: ``tg.float32``, ``tg.int64``, ``tg.bool``, ...

They are NumPy dtypes, which every part of the engine accepts wherever a dtype goes
(``Tensor(data, dtype=tg.float64)``, ``t.to(tg.int64)``), and on NumPy they compare equal
to a tensor's ``.dtype`` (``t.dtype == tg.float32``).
"""

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool = np.dtype("bool")  # noqa: A001 (tg.bool, as torch.bool)

__all__ = ["bool", "float32", "float64", "int32", "int64"]
