"""A GRU layer's training pass on the CPU, fused: what `torch.nn.GRU` computes, in about half
its time at the recipes' sizes.

On the CPU, `nn.GRU` runs a dozen PyTorch operators a time step (a product, then each gate's
adds, sigmoids and products), each recorded for autograd, and as many again backwards: at the
text recipe's size (batch 64, hidden 192) that bookkeeping, not the arithmetic, was half of a
training step. Here a time step is one product (PyTorch's) and one compiled loop (numba) for all
its gates, forwards and backwards, and two things are done once a chunk rather than once a step:

- the input's half of the gates is a table lookup: the input is a symbol, so
  `W_ih embed(x) + b_ih` is row x of `embed.weight @ W_ih.T + b_ih`, one small product a chunk
  (its gradient, autograd's, flows back into the embedding, W_ih and b_ih);
- the recurrent weights' gradient is one product over the whole chunk.

The sums are PyTorch's, in another order, so outputs and gradients match `nn.GRU`'s to float32
rounding (tests/test_gru_cpu.py), not bit for bit: a seeded run takes its own path. The loops
compile on a process's first use (under a second) and are cached beside the module after that.
"""

from __future__ import annotations

import numba
import torch

from .fastmath import JIT, ONE, sigmoid, tanh


@numba.njit(**JIT)
def _forward_step(table, ids, gh, h, r, z, n, ghn, h_out):
    """One time step for each row b: the gates from input row table[ids[b]] and the recurrent
    part gh (W_hh h + b_hh), saved for the backward pass, and the new state h_out."""
    rows, size = h.shape
    for b in range(rows):
        gi = table[ids[b]]
        for j in range(size):
            rr = sigmoid(gi[j] + gh[b, j])
            zz = sigmoid(gi[size + j] + gh[b, size + j])
            hn = gh[b, 2 * size + j]
            nn = tanh(gi[2 * size + j] + rr * hn)
            r[b, j], z[b, j], n[b, j], ghn[b, j] = rr, zz, nn, hn
            h_out[b, j] = nn + zz * (h[b, j] - nn)


@numba.njit(**JIT)
def _backward_step(ids, dh, dout, h, r, z, n, ghn, dgh, dh_direct, dtable):
    """The gradients of one time step, from dh (reaching the new state from later steps) plus
    dout (from this step's output): the recurrent part's (dgh, for W_hh, b_hh and the previous
    state), the table's (added into dtable at each row's symbol) and the part of the previous
    state's that skips the product (dh_direct = g z)."""
    rows, size = h.shape
    for b in range(rows):
        dgi = dtable[ids[b]]
        for j in range(size):
            g = dh[b, j] + dout[b, j]
            rr, zz, nn = r[b, j], z[b, j], n[b, j]
            dn = g * (ONE - zz) * (ONE - nn * nn)
            dz = g * (h[b, j] - nn) * zz * (ONE - zz)
            dr = dn * ghn[b, j] * rr * (ONE - rr)
            dgh[b, j], dgh[b, size + j], dgh[b, 2 * size + j] = dr, dz, dn * rr
            dgi[j] += dr
            dgi[size + j] += dz
            dgi[2 * size + j] += dn
            dh_direct[b, j] = g * zz


class _FusedGRU(torch.autograd.Function):
    """(table (K, 3H), ids (B, T), h0 (B, H), W_hh, b_hh) -> (outputs (B, T, H), last state
    (B, H)); the gradient of everything but ids."""

    @staticmethod
    def forward(ctx, table, ids, h0, w_hh, b_hh):
        rows, steps = ids.shape
        size = h0.shape[-1]
        ids_t = ids.t().contiguous()  # time-major, so that each step's rows are contiguous
        hs = h0.new_empty(steps + 1, rows, size)
        hs[0] = h0
        r, z, n, ghn = (h0.new_empty(steps, rows, size) for _ in range(4))
        gh = h0.new_empty(rows, 3 * size)
        w_t = w_hh.t()
        table_, ids_, hs_, gh_ = table.detach().numpy(), ids_t.numpy(), hs.numpy(), gh.numpy()
        r_, z_, n_, ghn_ = r.numpy(), z.numpy(), n.numpy(), ghn.numpy()
        for t in range(steps):  # autograd records nothing inside a Function's forward
            torch.addmm(b_hh, hs[t], w_t, out=gh)
            _forward_step(table_, ids_[t], gh_, hs_[t], r_[t], z_[t], n_[t], ghn_[t], hs_[t + 1])
        ctx.save_for_backward(ids_t, hs, r, z, n, ghn, w_hh)
        ctx.table_shape = table.shape
        return hs[1:].transpose(0, 1).contiguous(), hs[steps].clone()

    @staticmethod
    def backward(ctx, dout, dlast):
        ids_t, hs, r, z, n, ghn, w_hh = ctx.saved_tensors
        steps, rows, size = r.shape
        dout_t = (torch.zeros_like(r) if dout is None
                  else dout.transpose(0, 1).contiguous())
        dh = torch.zeros_like(hs[0]) if dlast is None else dlast.contiguous().clone()
        dgh = torch.empty(steps, rows, 3 * size)
        dtable = torch.zeros(ctx.table_shape)
        dh_direct = torch.empty(rows, size)
        ids_, hs_, dout_, dgh_ = ids_t.numpy(), hs.numpy(), dout_t.numpy(), dgh.numpy()
        r_, z_, n_, ghn_ = r.numpy(), z.numpy(), n.numpy(), ghn.numpy()
        dtable_, direct_ = dtable.numpy(), dh_direct.numpy()
        for t in range(steps - 1, -1, -1):
            _backward_step(ids_[t], dh.numpy(), dout_[t], hs_[t], r_[t], z_[t], n_[t], ghn_[t],
                           dgh_[t], direct_, dtable_)
            dh = torch.addmm(dh_direct, dgh[t], w_hh)
        flat = dgh.view(steps * rows, 3 * size)
        d_w_hh = flat.t() @ hs[:steps].reshape(steps * rows, size)
        return dtable, None, dh, d_w_hh, flat.sum(0)


def fits(model, ids: torch.Tensor) -> bool:
    """Whether `memory` can run `model` on `ids`: a GRU in float32 on the CPU."""
    return (model.cell == "gru" and ids.device.type == "cpu"
            and model.embed.weight.dtype == torch.float32)


def memory(model, ids: torch.Tensor, h: torch.Tensor | None = None):
    """`model.memory(ids, h)` (outputs (B, T, H) and the state (1, B, H)) for a GRU model on
    the CPU (see `fits`), fused and differentiable."""
    gru = model.recurrent
    k = model.embed.num_embeddings
    # the compiled loops index the table unchecked: an id outside it would read stray memory
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= k):
        raise IndexError(f"symbol ids must be 0..{k - 1}; these run "
                         f"{int(ids.min())}..{int(ids.max())}")
    if h is None:
        h = model.initial_state(ids.shape[0])
    table = torch.nn.functional.linear(model.embed.weight, gru.weight_ih_l0, gru.bias_ih_l0)
    out, last = _FusedGRU.apply(table, ids, h[0], gru.weight_hh_l0, gru.bias_hh_l0)
    return out, last[None]
