"""The minibatch layer's kernel: sums of exp(-L1 distance) over the other samples of a batch.

``ClosenessSums`` computes them from ``torch.cdist`` with a hand-written backward
(tested against autograd through the explicit differences and by gradcheck).
"""

from __future__ import annotations

import math

import torch


class ClosenessSums(torch.autograd.Function):
    """(b, N, C) rows M_i,b of some kernels -> (b, N) sums over j != i of exp(-||M_i,b - M_j,b||_1).

    The L1 distances come from ``torch.cdist`` (p = 1), which never builds the
    (b, N, N, C) differences that plain autograd would build and keep. The
    gradient is written out: with G = dL/do and c the closeness,

        dL/dM_i,c = sum over j of -(G_i + G_j) c_ij sign(M_i,c - M_j,c),

    one call of cdist's own backward with the symmetric weights -(G_i + G_j) c_ij
    (the distance matrix depends on M through both of its arguments). Together
    about 10x faster than autograd through the differences on a CPU, and equal to
    it to rounding (tested against the formula and by gradcheck).
    """

    @staticmethod
    def forward(ctx, per_kernel: torch.Tensor) -> torch.Tensor:
        distances = torch.cdist(per_kernel, per_kernel, p=1)  # (b, N, N), exactly 0 on the diagonal
        # c_b(x_i, x_j) = exp(-distance). Distances past -log(smallest normal number) - 1 (86.3
        # in float32) count as that distance: their closeness would be a subnormal number below
        # 3.2e-38, which x86 CPUs compute about 10x slower than a normal one. (Far pairs are
        # the common case once D has trained: most of them, on ring8.)
        cutoff = -math.log(torch.finfo(distances.dtype).tiny) - 1.0
        closeness = distances.clamp(max=cutoff).neg_().exp_()
        closeness.diagonal(dim1=1, dim2=2).zero_()  # a sample is not compared with itself
        ctx.save_for_backward(per_kernel, distances, closeness)
        return closeness.sum(dim=2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        per_kernel, distances, closeness = ctx.saved_tensors
        weights = (grad.neg().unsqueeze(2) - grad.unsqueeze(1)).mul_(closeness)  # (b, N, N) dL/dD
        return torch.ops.aten._cdist_backward(
            weights.contiguous(), per_kernel.contiguous(), per_kernel.contiguous(), 1.0, distances
        )
