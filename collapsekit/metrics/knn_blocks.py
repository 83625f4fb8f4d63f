"""Building blocks of the k-NN engine: point clouds, fast distance blocks and their error bound.

The fast squared distance of centred points x, y (rounded to the compute
precision, unit roundoff u) is ``a = |x|^2 + |y|^2 - 2 x.y`` from one matrix
product. Its error against the true squared distance d^2 of the original
points is at most ``c (|x|^2 + |y|^2)`` with ``c = 1.05 (D + 16) u / (1 - (D + 16) u)``:
D u for the dot product in any summation order (Higham, Accuracy and Stability
of Numerical Algorithms, eq. 3.5), about 4u for rounding the centred points and
about 5u for assembling the three terms. Since |y|^2 <= 2|x|^2 + 2 d^2 (up to
rounding), the error is also at most ``c (3 |x|^2 + 2 d^2)``, a bound that uses
only the ball centre's norm, so a block can be compared with one threshold per
ball.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from collapsekit.errors import CollapsekitError

DEFAULT_CHUNK_SIZE = 1 << 20  # pairwise distances held at once: 4 MiB of float32
GROUP = 32  # columns pruned together by their minimum
_EXACT_SUM_BLOCK = 4096  # columns summed at once, so float64 sums never depend on batching


def resolve_device(tensor: torch.Tensor, device: str | torch.device | None) -> torch.device:
    """``device`` if given; else CUDA when the tensor is on the CPU and CUDA is available."""
    if device is not None:
        return torch.device(device)
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


def slack(width: int, unit: float) -> float:
    """c such that |fast d^2 - true d^2| <= c (|x|^2 + |y|^2) for centred points x, y."""
    terms = (width + 16) * unit
    return 1.05 * terms / (1.0 - terms)


class PointCloud:
    """Points prepared for chunked distance computations.

    Keeps the original points (for exact float64 distances) and a centred copy
    in the compute precision with its squared norms. Clouds compared with each
    other must share ``centre``. float32 is used unless its error bound is too
    loose (very wide features, or TF32/bfloat16 products allowed), then float64.

    Example:
        >>> real = PointCloud(torch.randn(50, 4))
        >>> fake = PointCloud(torch.randn(60, 4), centre=real.centre)
    """

    def __init__(
        self,
        points: torch.Tensor,
        centre: torch.Tensor | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if points.dim() != 2 or points.shape[0] == 0 or points.shape[1] == 0:
            raise CollapsekitError(
                f"points must be a non-empty (N, D) tensor, got shape {tuple(points.shape)}"
            )
        if chunk_size < 1:
            raise CollapsekitError(
                f"chunk_size must be a positive number of distances, got {chunk_size}"
            )
        self.points = points  # (N, D) as given
        self.chunk_size = int(chunk_size)
        self.centre = (points.to(torch.float64).mean(0) if centre is None else centre).to(
            points.device, torch.float64
        )  # (D,)
        self.slack = slack(self.width, unit_roundoff(points.device))
        self.compute_dtype = torch.float32
        if self.slack > 0.01:
            self.compute_dtype, self.slack = torch.float64, slack(self.width, 2.0**-53)
        self.centred, self.squared_norms = self._centre()  # (N, D) compute dtype, (N,) float64
        if self.compute_dtype == torch.float32 and float(self.squared_norms.max()) > 1e30:
            raise CollapsekitError(
                "features are too large for float32 distances (squared norm above 1e30); "
                "rescale them, e.g. divide by their standard deviation"
            )
        self.squared_norms_compute = self.squared_norms.to(self.compute_dtype)  # (N,)

    @property
    def size(self) -> int:
        return int(self.points.shape[0])

    @property
    def width(self) -> int:
        return int(self.points.shape[1])

    def _centre(self) -> tuple[torch.Tensor, torch.Tensor]:
        centred = torch.empty(
            self.points.shape, dtype=self.compute_dtype, device=self.points.device
        )
        norms = torch.empty(self.size, dtype=torch.float64, device=self.points.device)
        step = max(1, self.chunk_size // self.width)
        for start in range(0, self.size, step):
            rows = (self.points[start : start + step].to(torch.float64) - self.centre).to(
                self.compute_dtype
            )
            centred[start : start + step] = rows
            norms[start : start + step] = rows.to(torch.float64).square().sum(1)
        return centred, norms


def approximate_squared_distances(
    rows: PointCloud, row_index: slice | torch.Tensor, columns: PointCloud, column_slice: slice
) -> torch.Tensor:
    """Fast squared distances between some rows and a block of columns: (B, C), contiguous."""
    block = torch.addmm(
        columns.squared_norms_compute[column_slice].unsqueeze(0),
        rows.centred[row_index],
        columns.centred[column_slice].T,
        alpha=-2.0,
    )  # (B, C)
    return block.add_(rows.squared_norms_compute[row_index].unsqueeze(1))


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
    step = max(1, chunk_size // width)
    for start in range(0, pairs, step):
        difference = first[first_index[start : start + step]].to(torch.float64) - second[
            second_index[start : start + step]
        ].to(torch.float64)  # (p, D)
        total = difference[:, :_EXACT_SUM_BLOCK].square().sum(1)
        for offset in range(_EXACT_SUM_BLOCK, width, _EXACT_SUM_BLOCK):
            total = total + difference[:, offset : offset + _EXACT_SUM_BLOCK].square().sum(1)
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


def row_blocks(rows: int, columns: int, chunk_size: int) -> Iterator[slice]:
    """Row slices such that one slice times one column block holds at most ``chunk_size`` entries."""
    step = max(1, chunk_size // min(columns, chunk_size))
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def column_blocks(columns: int, chunk_size: int) -> Iterator[slice]:
    step = min(columns, chunk_size)
    for start in range(0, columns, step):
        yield slice(start, min(columns, start + step))


def group_minima(block: torch.Tensor) -> torch.Tensor:
    """Minimum of every run of ``GROUP`` columns: (B, C) contiguous -> (B, ceil(C / GROUP))."""
    rows, columns = block.shape
    full = columns // GROUP
    parts = []
    if full:
        grouped = block.as_strided(
            (rows, full, GROUP), (block.stride(0), GROUP, 1)
        )  # a view, no copy
        parts.append(grouped.amin(2))
    if columns % GROUP:
        parts.append(block[:, full * GROUP :].amin(1, keepdim=True))
    return parts[0] if len(parts) == 1 else torch.cat(parts, 1)


def group_entries(
    block: torch.Tensor, groups: torch.Tensor, rows: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entries of the column groups ``groups`` (R, q) of ``rows`` (default: all, in order).

    Returns values (R, q * GROUP), +inf where a group runs past the last column,
    and their column indices (R, q * GROUP).
    """
    offsets = torch.arange(GROUP, device=block.device)
    columns = (groups.unsqueeze(2) * GROUP + offsets).flatten(1)  # (R, q * GROUP)
    ragged = block.shape[1] % GROUP != 0
    if ragged:
        valid = columns < block.shape[1]
        columns = columns.clamp_max(block.shape[1] - 1)
    values = block.gather(1, columns) if rows is None else block[rows.unsqueeze(1), columns]
    return (values.masked_fill(~valid, torch.inf) if ragged else values), columns


def row_group_minima(block: torch.Tensor) -> torch.Tensor:
    """Minimum of every run of ``GROUP`` rows: (B, C) contiguous -> (ceil(B / GROUP), C)."""
    rows, columns = block.shape
    full = rows // GROUP
    parts = []
    if full:
        grouped = block.as_strided(
            (full, GROUP, columns), (GROUP * block.stride(0), block.stride(0), 1)
        )
        parts.append(grouped.amin(1))
    if rows % GROUP:
        parts.append(block[full * GROUP :].amin(0, keepdim=True))
    return parts[0] if len(parts) == 1 else torch.cat(parts, 0)


def row_group_entries(
    block: torch.Tensor, groups: torch.Tensor, columns: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entries of row groups ``groups`` (P,) in columns ``columns`` (P,).

    Returns values (P, GROUP), +inf where a group runs past the last row, and
    their row indices (P, GROUP).
    """
    rows = groups.unsqueeze(1) * GROUP + torch.arange(GROUP, device=block.device)  # (P, GROUP)
    valid = rows < block.shape[0]
    rows = rows.clamp_max(block.shape[0] - 1)
    values = block[rows, columns.unsqueeze(1)]
    return values.masked_fill(~valid, torch.inf), rows


def smallest_per_row(block: torch.Tensor, count: int) -> torch.Tensor:
    """The ``count`` smallest entries of each row, ascending: (B, min(count, C)).

    Only the ``count`` groups with the smallest minima can hold them: any entry
    of another group has ``count`` distinct entries at most as large.
    """
    minima = group_minima(block)
    kept = min(count, minima.shape[1])
    values, _ = group_entries(block, minima.topk(kept, dim=1, largest=False).indices)
    return values.topk(min(count, block.shape[1]), dim=1, largest=False).values
