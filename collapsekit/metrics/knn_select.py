"""Selecting few entries from a block of distances without sorting it: groups of 32 and their minima.

A block's columns are cut into runs of ``GROUP``; the minimum of each run is one
fast pass. The k-th smallest run minimum bounds the k-th smallest entry from
above, so only the runs whose minimum lies below that bound are opened. Rows
and blocks are walked so that at most ``chunk_size`` distances exist at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

GROUP = 32  # columns pruned together by their minimum


def row_blocks(rows: int, columns: int, chunk_size: int) -> Iterator[slice]:
    """Row slices such that one slice times one column block holds at most ``chunk_size`` entries.

    Slices are whole groups of rows where the budget allows, so row-group minima need no ragged end.
    """
    step = max(1, chunk_size // min(columns, chunk_size))
    step = step // GROUP * GROUP or step
    for start in range(0, rows, step):
        yield slice(start, min(rows, start + step))


def column_blocks(columns: int, chunk_size: int) -> Iterator[slice]:
    """Column slices of whole groups, each at most ``chunk_size`` wide (at least one group)."""
    step = min(columns, max(GROUP, chunk_size // GROUP * GROUP))
    for start in range(0, columns, step):
        yield slice(start, min(columns, start + step))


def group_minima(block: torch.Tensor) -> torch.Tensor:
    """Minimum of every run of ``GROUP`` columns: (B, C) contiguous, C whole groups -> (B, C / GROUP)."""
    rows, columns = block.shape
    return block.view(rows, columns // GROUP, GROUP).amin(2)


def group_entries(
    block: torch.Tensor, groups: torch.Tensor, rows: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entries of the column groups ``groups`` (R, q) of ``rows`` (default: all, in order).

    Returns values (R, q * GROUP) and their column indices (R, q * GROUP).
    """
    count = block.shape[1] // GROUP
    if rows is None:
        rows = torch.arange(block.shape[0], device=block.device)
    flat = (rows.unsqueeze(1) * count + groups).flatten()  # (R * q,) whole groups, contiguous rows
    values = (
        block.view(-1, GROUP).index_select(0, flat).view(groups.shape[0], groups.shape[1] * GROUP)
    )
    columns = (groups.unsqueeze(2) * GROUP + torch.arange(GROUP, device=block.device)).flatten(1)
    return values, columns


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


def smallest_per_row(
    block: torch.Tensor, count: int, along_columns: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` smallest entries of each row (or column), ascending, and where they are.

    Returns two (B, min(count, C)) tensors, or (C, min(count, B)) ``along_columns``.
    The count-th smallest group minimum t bounds the count-th smallest entry
    from above, so only the entries at most t, in groups whose minimum is at
    most t, are gathered and sorted: a few per row instead of the whole row.
    """
    lines, length = (block.shape[1], block.shape[0]) if along_columns else block.shape
    count = min(count, length)
    minima = (
        row_group_minima(block).T.contiguous() if along_columns else group_minima(block)
    )  # (lines, G)
    if minima.shape[1] <= count:
        limit = torch.full((lines,), torch.inf, dtype=block.dtype, device=block.device)
    else:
        limit = kth_smallest(minima, count)  # (lines,)
    line, group = (minima <= limit.unsqueeze(1)).nonzero().unbind(1)  # line-major
    if along_columns:
        values, where = row_group_entries(block, group, line)  # (P, GROUP)
    else:
        values, where = group_entries(block, group.unsqueeze(1), line)
    keep = values <= limit[line].unsqueeze(1)
    line = line.unsqueeze(1).expand_as(values)[keep]
    packed_values, packed_where = _pack_rows(line, values[keep], where[keep], lines)
    order = packed_values.sort(dim=1).indices[:, :count]
    return packed_values.gather(1, order), packed_where.gather(1, order)


def kth_smallest(values: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th smallest entry of each row (k from 1): (B,). numpy's partition on the CPU, where
    torch's topk and kthvalue cost microseconds per row."""
    if values.device.type == "cpu":
        array = values.numpy()
        return torch.from_numpy(np.partition(array, k - 1, axis=1)[:, k - 1].copy())
    return values.kthvalue(k, dim=1).values


def _pack_rows(
    rows: torch.Tensor, values: torch.Tensor, columns: torch.Tensor, row_count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entries given row by row (``rows`` ascending) as a dense (B, widest row) matrix, +inf padded."""
    counts = torch.bincount(rows, minlength=row_count)
    position = torch.arange(rows.numel(), device=rows.device) - (counts.cumsum(0) - counts)[rows]
    width = int(counts.max())
    packed_values = torch.full(
        (row_count, width), torch.inf, dtype=values.dtype, device=values.device
    )
    packed_columns = torch.zeros((row_count, width), dtype=torch.int64, device=values.device)
    packed_values[rows, position] = values
    packed_columns[rows, position] = columns
    return packed_values, packed_columns
