"""Top-down visitation heatmaps over a scenario's fixed window (paper's figures; ``coord_limits``).

Positions outside the window are counted, never dropped silently.

>>> grid = VisitGrid((0, 0, 3, 3), bins=3)
>>> grid.add([0.5, 2.5, 2.5, 9.0], [0.5, 0.5, 0.5, 1.0])
>>> grid.counts.astype(int).tolist(), grid.out_of_range
([[1, 0, 0], [0, 0, 0], [2, 0, 0]], 1)
"""

from __future__ import annotations

import numpy as np

__all__ = ["VisitGrid"]


class VisitGrid:
    """A 2-D histogram ``counts[ix, iy]`` over ``coord_limits = (x0, y0, x1, y1)``; ``bins`` on the long side."""

    def __init__(self, coord_limits, bins: int):
        x0, y0, x1, y1 = map(float, coord_limits)
        if x1 <= x0 or y1 <= y0 or bins < 1:
            raise ValueError(f"coord_limits must be (x0, y0, x1, y1) with x1 > x0, y1 > y0; got {coord_limits}")
        self.limits = (x0, y0, x1, y1)
        cell = max(x1 - x0, y1 - y0) / bins
        self.cell = cell
        self.shape = (max(1, int(np.ceil((x1 - x0) / cell - 1e-9))), max(1, int(np.ceil((y1 - y0) / cell - 1e-9))))
        self.counts = np.zeros(self.shape, dtype=np.int64)
        self.out_of_range = 0

    def add(self, x, y) -> None:
        x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        x0, y0, x1, y1 = self.limits
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        self.out_of_range += int((~inside).sum())
        ix = np.minimum(((x[inside] - x0) / self.cell).astype(np.int64), self.shape[0] - 1)
        iy = np.minimum(((y[inside] - y0) / self.cell).astype(np.int64), self.shape[1] - 1)
        flat = np.bincount(ix * self.shape[1] + iy, minlength=self.counts.size)
        self.counts += flat.reshape(self.shape)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, _, _ = self.limits
        return (x0 + self.cell * np.arange(self.shape[0] + 1), y0 + self.cell * np.arange(self.shape[1] + 1))
