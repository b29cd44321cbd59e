"""What every picture of the package shares: a figure, its colours, its tiles, its file.

matplotlib is optional (the ``plot`` extra, `extras.install_hint`): `require_matplotlib`
imports it or raises `PlotsUnavailable` with the one-line install hint, and the other
helpers import it inside their bodies for that reason. Figures are drawn on matplotlib's
`Figure` directly, never through ``pyplot``: that needs no display and leaves the backend
of a notebook as it was. `save_png` writes atomically (`io.atomic`), so a half-written
picture never replaces a good one.

The drawing modules (`plots`, `classification`, `network`, `compare`) call these through
the module (``figures.save_png(fig, path)``), so a test can catch every figure in one place.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..extras import install_hint
from ..io.atomic import atomic_write

MISSING_MATPLOTLIB = f"plots need matplotlib: {install_hint('plot')}"
DPI = 110


class PlotsUnavailable(UserError):
    """matplotlib is not installed."""


def require_matplotlib() -> Any:
    """The matplotlib module, or PlotsUnavailable with the one-line install hint."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401 - the submodule every plot needs
    except ImportError:
        raise PlotsUnavailable(MISSING_MATPLOTLIB) from None
    return matplotlib


def new_figure(**options: Any) -> Any:
    """A matplotlib `Figure` with the constrained layout (`options`: figsize, ...)."""
    return require_matplotlib().figure.Figure(layout="constrained", **options)


def fit_suptitle(fig: Any, title: Any, margin: float = 0.4) -> None:
    """Widen `fig` until its `title` (a `fig.suptitle`) fits with `margin` inches to spare:
    a long run name must never be cut (a 340-pixel confusion matrix once read "on the tes")."""
    fig.draw_without_rendering()
    needed = title.get_window_extent().width / fig.dpi + margin
    if needed > fig.get_figwidth():
        fig.set_figwidth(needed)


def save_png(fig: Any, path: Path) -> Path:
    """Write the PNG atomically (a half-written picture never replaces a good one)."""
    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=DPI)
    return path


def sequence_colors(count: int) -> list[Any]:
    """`count` colours along viridis, for curves in an order (runs, points, layers)."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / max(count - 1, 1)) for i in range(count)]


def tile_mosaic(tiles: np.ndarray, columns: int, gap: int, band: int) -> np.ndarray:
    """Tiles ``(n, h, w)`` laid out row by row, `columns` to a row, in one float array:
    `gap` columns between tiles and a `band` of rows above each row of tiles (for labels),
    NaN there (drawn in the colour map's "bad" colour)."""
    count, height, width = tiles.shape
    rows = math.ceil(count / columns)
    mosaic = np.full((rows * (height + band), columns * (width + gap) - gap), np.nan)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        top, left = row * (height + band) + band, column * (width + gap)
        mosaic[top : top + height, left : left + width] = tile
    return mosaic


def label_tiles(
    ax: Any,
    labels: list[str],
    columns: int,
    tile: tuple[int, int],
    gap: int,
    band: int,
    **text: Any,
) -> None:
    """Write each tile's label in the band above it, on a `tile_mosaic` drawn in `ax`."""
    height, width = tile
    for index, label in enumerate(labels):
        row, column = divmod(index, columns)
        x, y = column * (width + gap) + (width - 1) / 2, row * (height + band) + band - 1.5
        ax.text(x, y, label, ha="center", va="bottom", **{"fontsize": 6, **text})
