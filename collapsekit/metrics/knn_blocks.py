"""Building blocks of the k-NN engine: point clouds, fast distance blocks and their error bound.

The fast squared distance of centred points x, y (rounded to the compute
precision, unit roundoff u; ``Precision``) is ``a = |x|^2 + |y|^2 - 2 x.y``, one
dot product of length D + 2 of augmented rows (``Prepared``). Its error against
the true squared distance d^2 of the original points is at most
``c (|x|^2 + |y|^2)`` with ``c = 1.05 (2D + 16) u / (1 - (2D + 16) u)``: the dot
product of terms summing in absolute value to at most 2 (|x|^2 + |y|^2), in any
summation order, errs by (D + 2) u times that (Higham, Accuracy and Stability of
Numerical Algorithms, eq. 3.5); rounding the centred points adds about 4u and
rounding the norms u. Since |y|^2 <= 2|x|^2 + 2 d^2 (up to
rounding), the error is also at most ``c (3 |x|^2 + 2 d^2)``, a bound that uses
only the ball centre's norm, so a block can be compared with one threshold per
ball.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from collapsekit.errors import CollapsekitError
from collapsekit.metrics.knn_select import GROUP

DEFAULT_CHUNK_SIZE = 1 << 21  # pairwise distances held at once: 8 MiB of float32
WIDE_CHUNK_SIZE = 1 << 23  # for features wider than WIDE: taller blocks keep the products efficient
WIDE = 256
_EXACT_SUM_BLOCK = 4096  # columns summed at once, so float64 sums never depend on batching
_EXACT_CHUNK = 1 << 16  # coordinates of exact pairs handled at once
FLOAT64_UP_TO_WIDTH = 16  # narrower points are compared in float64 from the start
SAFETY = 1e-9  # relative margin so that bound-based decisions agree with float64 ones


def resolve_device(tensor: torch.Tensor, device: str | torch.device | None) -> torch.device:
    """``device`` if given; else CUDA when the tensor is on the CPU and CUDA is available."""
    if device is not None:
        try:
            return torch.device(device)
        except (RuntimeError, TypeError):
            raise CollapsekitError(f"unknown device {device!r}; use cpu or cuda") from None
    if tensor.device.type == "cpu" and torch.cuda.is_available():
        return torch.device("cuda")
    return tensor.device


def unit_roundoff(device: torch.device) -> float:
    """Relative rounding of a float32 matrix-product input on ``device`` under torch's settings."""
    precision = torch.get_float32_matmul_precision()
    if precision == "medium":
        return 2.0**-8  # bfloat16 products allowed
    if precision == "high" or (device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32):
        return 2.0**-11  # TensorFloat-32 products allowed
    return 2.0**-24


@dataclass(frozen=True)
class Precision:
    """A compute dtype and the slack c of its fast squared distances.

    |fast d^2 - true d^2| <= c (|x|^2 + |y|^2) <= c (3 |x|^2 + 2 d^2) for centred x, y.
    """

    dtype: torch.dtype
    slack: float

    @classmethod
    def of(cls, dtype: torch.dtype, width: int, device: torch.device) -> Precision:
        unit = unit_roundoff(device) if dtype == torch.float32 else 2.0**-53
        terms = (2 * width + 16) * unit  # augmented dot product (2 (D + 2)) plus centring and norms
        return cls(dtype, 1.05 * terms / (1.0 - terms))


@dataclass
class Prepared:
    """A cloud's centred points x in one precision, augmented so that one product gives d^2.

    ``left[i] . right[:, j] = |x_i|^2 + |x_j|^2 - 2 x_i . x_j`` with
    ``left = [x, |x|^2, 1]`` and ``right = [-2 x, 1, |x|^2]^T`` (stored transposed:
    the product reads it faster).
    """

    left: torch.Tensor  # (N, D + 2) in the precision's dtype
    right: torch.Tensor  # (D + 2, N rounded up to whole groups) in the precision's dtype
    squared_norms: torch.Tensor  # (N,) float64 |x|^2 of the rounded centred points, for the bounds


class PointCloud:
    """Points prepared for chunked distance computations.

    Keeps the original points (for exact float64 distances) and centred copies
    with their squared norms: float32 for speed (``precision``), float64 where
    float32 cannot separate near neighbours (``fallback``, built on first use).
    Narrow points (at most 16 features) use float64 from the start: their
    products are cheap and tight clusters are common (ring8, grid25). Clouds
    compared with each other must share ``centre``.

    Example:
        >>> real = PointCloud(torch.randn(50, 4))
        >>> fake = PointCloud(torch.randn(60, 4), centre=real.centre)
    """

    def __init__(
        self,
        points: torch.Tensor,
        centre: torch.Tensor | None = None,
        chunk_size: int | None = None,
    ) -> None:
        if points.dim() != 2 or points.shape[0] == 0 or points.shape[1] == 0:
            raise CollapsekitError(
                f"points must be a non-empty (N, D) tensor, got shape {tuple(points.shape)}"
            )
        if chunk_size is None:
            chunk_size = WIDE_CHUNK_SIZE if points.shape[1] > WIDE else DEFAULT_CHUNK_SIZE
        if chunk_size < 1:
            raise CollapsekitError(
                f"chunk_size must be a positive number of distances, got {chunk_size}"
            )
        self.points = points  # (N, D) as given
        self.chunk_size = int(chunk_size)
        centre = points.to(torch.float64).mean(0) if centre is None else centre
        self.centre = centre.to(points.device, torch.float64)  # (D,)
        self.fallback = Precision.of(torch.float64, self.width, points.device)
        self.precision = Precision.of(torch.float32, self.width, points.device)
        if self.width <= FLOAT64_UP_TO_WIDTH or self.precision.slack > 0.01:
            self.precision = self.fallback
        self._prepared: dict[torch.dtype, Prepared] = {}
        if self.prepared(self.precision).left[:, -2].isinf().any():
            raise CollapsekitError(
                "features are too large for float32 distances (squared norm above 3e38); "
                "rescale them, e.g. divide by their standard deviation"
            )

    @property
    def size(self) -> int:
        return int(self.points.shape[0])

    @property
    def width(self) -> int:
        return int(self.points.shape[1])

    @property
    def padded_size(self) -> int:
        """Columns of this cloud in a block: the size rounded up to whole groups (padding is +inf)."""
        return -(-self.size // GROUP) * GROUP

    def prepared(self, precision: Precision) -> Prepared:
        """Centred points and norms in ``precision`` (computed once)."""
        if precision.dtype not in self._prepared:
            self._prepared[precision.dtype] = self._centre(precision.dtype)
        return self._prepared[precision.dtype]

    def _centre(self, dtype: torch.dtype) -> Prepared:
        left = torch.ones(self.size, self.width + 2, dtype=dtype, device=self.points.device)
        right = torch.ones_like(left)
        norms = torch.empty(self.size, dtype=torch.float64, device=self.points.device)
        step = max(1, min(self.chunk_size, _EXACT_CHUNK) // self.width)
        for start in range(0, self.size, step):
            end = min(self.size, start + step)
            rows = self.points[start:end].to(torch.float64)
            rows -= self.centre
            left[start:end, : self.width] = rows
            rows.copy_(left[start:end, : self.width])  # the rounded values the bounds are about
            norms[start:end] = rows.square_().sum(1)
        right[:, : self.width] = left[:, : self.width] * -2
        left[:, -2] = norms
        right[:, -1] = norms
        padding = torch.zeros(
            self.padded_size - self.size, self.width + 2, dtype=dtype, device=left.device
        )
        padding[:, -1] = torch.inf  # |x|^2 slot: padded columns are infinitely far from everything
        return Prepared(left, torch.cat([right, padding]).T.contiguous(), norms)


def approximate_squared_distances(
    rows: PointCloud,
    row_index: slice | torch.Tensor,
    columns: PointCloud,
    column_index: slice | torch.Tensor,
    precision: Precision,
) -> torch.Tensor:
    """Fast squared distances between some rows and some columns: (B, C), contiguous, one product."""
    return (
        rows.prepared(precision).left[row_index]
        @ columns.prepared(precision).right[:, column_index]
    )


def lower_bounds(
    precision: Precision, fast: torch.Tensor, squared_norms: torch.Tensor
) -> torch.Tensor:
    """Lower bounds (float64) on true squared distances behind ``fast`` values of centres with ``squared_norms``."""
    spread = 3 * precision.slack * squared_norms
    return ((fast.to(torch.float64) - spread) / (1 + 2 * precision.slack)).clamp_min(0)


def upper_bounds(
    precision: Precision, fast: torch.Tensor, squared_norms: torch.Tensor
) -> torch.Tensor:
    spread = 3 * precision.slack * squared_norms
    return (fast.to(torch.float64) + spread) / (1 - 2 * precision.slack)


def surely_below(
    precision: Precision, squared: torch.Tensor, squared_norms: torch.Tensor
) -> torch.Tensor:
    """Fast values below these (in the precision's dtype) are surely below true ``squared``."""
    limit = squared * (1 - SAFETY) * (1 - 2 * precision.slack) - 3 * precision.slack * squared_norms
    return round_down(limit, precision.dtype)


def surely_above(
    precision: Precision, squared: torch.Tensor, squared_norms: torch.Tensor
) -> torch.Tensor:
    """Fast values above these (in the precision's dtype) are surely above true ``squared``."""
    limit = squared * (1 + SAFETY) * (1 + 2 * precision.slack) + 3 * precision.slack * squared_norms
    return round_up(limit, precision.dtype)


def exact_squared_distances(
    first: torch.Tensor,
    first_index: torch.Tensor,
    second: torch.Tensor,
    second_index: torch.Tensor,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> torch.Tensor:
    """Float64 squared distances between ``first[first_index[p]]`` and ``second[second_index[p]]``: (P,).

    The same two vectors always give the same bits, whatever the batch they come
    in, so a distance equal to a radius compares as equal.
    """
    pairs, width = int(first_index.numel()), int(first.shape[1])
    out = torch.empty(pairs, dtype=torch.float64, device=first.device)
    step = max(1, min(chunk_size, _EXACT_CHUNK) // width)  # small chunks stay in cache
    for start in range(0, pairs, step):
        difference = first[first_index[start : start + step]].to(torch.float64)  # (p, D)
        difference -= second[
            second_index[start : start + step]
        ]  # exact: float32 inputs fit float64
        difference.square_()
        total = difference[:, :_EXACT_SUM_BLOCK].sum(1)
        for offset in range(_EXACT_SUM_BLOCK, width, _EXACT_SUM_BLOCK):
            total += difference[:, offset : offset + _EXACT_SUM_BLOCK].sum(1)
        out[start : start + step] = total
    return out


def round_down(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``values`` (float64) in ``dtype``, rounded towards minus infinity."""
    rounded = values.to(dtype)
    too_high = rounded.to(torch.float64) > values
    return torch.where(
        too_high, torch.nextafter(rounded, torch.full_like(rounded, -torch.inf)), rounded
    )


def round_up(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``values`` (float64) in ``dtype``, rounded towards plus infinity."""
    rounded = values.to(dtype)
    too_low = rounded.to(torch.float64) < values
    return torch.where(
        too_low, torch.nextafter(rounded, torch.full_like(rounded, torch.inf)), rounded
    )
