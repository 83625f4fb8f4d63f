"""A fixed training set served in shuffled epochs, as PacGAN's code trains.

PacGAN's ``GaussianPackingMixture`` draws ``num_examples`` points once, then,
for each of the m packed slots, resamples them with replacement
(``ids = randint(0, N, N)``), so the training table has N rows of m points;
Fuel's ``ShuffledScheme`` walks it in shuffled epochs of batches. This class does
the same: ``rows`` is that (N, m) table of indices, ``batch`` the next rows of
the current epoch, slot-major (slot 0 of every row, then slot 1, ...).
"""

from __future__ import annotations

import torch

from collapsekit.data import Dataset

DRAW_SEED_OFFSET = 3_000_017  # the set and its packing table come from their own generator


class FixedTrainingSet:
    """``size`` points drawn once from ``dataset``, served in shuffled epochs of packed rows.

    Example:
        >>> import collapsekit
        >>> data = FixedTrainingSet(collapsekit.get_dataset("ring8"), 1000, slots=2, seed=0)
        >>> data.batch(100, torch.Generator().manual_seed(0)).shape  # 100 rows of 2 points
        torch.Size([200, 2])
    """

    def __init__(self, dataset: Dataset, size: int, slots: int, seed: int) -> None:
        draw = torch.Generator().manual_seed(seed + DRAW_SEED_OFFSET)
        self.points = dataset.sample(size, generator=draw)  # (N, *sample_shape)
        self.rows = torch.randint(0, size, (size, slots), generator=draw)  # (N, m)
        self.order = torch.empty(0, dtype=torch.long)  # this epoch's row order
        self.cursor = 0

    def batch(self, rows: int, generator: torch.Generator) -> torch.Tensor:
        """The next ``rows`` rows, (rows * m, *sample_shape), slot-major; new epochs as needed."""
        taken = []
        while rows > 0:
            if self.cursor >= self.order.numel():
                self.order = torch.randperm(self.rows.shape[0], generator=generator)
                self.cursor = 0
            part = self.order[self.cursor : self.cursor + rows]
            self.cursor += part.numel()
            rows -= part.numel()
            taken.append(part)
        indices = self.rows[torch.cat(taken)]  # (rows, m)
        return self.points[indices.T.reshape(-1)]  # (m * rows, *sample_shape)

    def state_dict(self) -> dict:
        return {"order": self.order.clone(), "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.order = state["order"].to(torch.long)
        self.cursor = int(state["cursor"])
