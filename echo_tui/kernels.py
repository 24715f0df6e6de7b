"""The compiled loops (numba) behind the lean engine and the session's per-step bookkeeping.

For one stream, a step of a small GRU is a few hundred thousand multiply-adds: PyTorch or numpy
spend more time dispatching their operators than computing them. Each loop here is one call.

Reassociating sums lets the compiler vectorise the dot products (the order of a float sum
changes in the last bits, as it does between PyTorch's own kernels); no assumption about NaN or
infinity is made. Compiled code is cached beside the module, so only the first run compiles.
"""

from __future__ import annotations

import numba
import numpy as np

_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, fastmath=_FAST)
def matvec(w, x, b, out):
    """out = w @ x + b, four rows at a time: four independent sums keep the vector units busy
    (one running sum waits on its own previous add)."""
    rows, cols = w.shape
    for j in range(0, rows - rows % 4, 4):
        a0, a1, a2, a3 = b[j], b[j + 1], b[j + 2], b[j + 3]
        for k in range(cols):
            xk = x[k]
            a0 += w[j, k] * xk
            a1 += w[j + 1, k] * xk
            a2 += w[j + 2, k] * xk
            a3 += w[j + 3, k] * xk
        out[j], out[j + 1], out[j + 2], out[j + 3] = a0, a1, a2, a3
    for j in range(rows - rows % 4, rows):
        acc = b[j]
        for k in range(cols):
            acc += w[j, k] * x[k]
        out[j] = acc


@numba.njit(cache=True, fastmath=_FAST)
def _gru(table, whh, bhh, i, h, h_out):
    """h_out = GRU(h, symbol i), PyTorch's gate order (reset, update, new)."""
    n_h = h.shape[0]
    gh = np.empty(3 * n_h, dtype=np.float32)
    matvec(whh, h, bhh, gh)
    for j in range(n_h):
        r = 1.0 / (1.0 + np.exp(-(table[i, j] + gh[j])))
        z = 1.0 / (1.0 + np.exp(-(table[i, n_h + j] + gh[n_h + j])))
        # tanh(x) = 2 sigmoid(2x) - 1: one exp, a fifth faster than libm's tanh here, and
        # within float32 rounding of it
        n = 2.0 / (1.0 + np.exp(-2.0 * (table[i, 2 * n_h + j] + r * gh[2 * n_h + j]))) - 1.0
        h_out[j] = n + z * (h[j] - n)


@numba.njit(cache=True, fastmath=_FAST)
def _best(logits, pred, conf, d):
    """Head d's answer and its softmax probability, as a byte."""
    best = 0
    for c in range(logits.shape[0]):
        if logits[c] > logits[best]:
            best = c
    total = 0.0
    for c in range(logits.shape[0]):
        total += np.exp(logits[c] - logits[best])
    pred[d] = best
    conf[d] = np.uint8(np.rint(255.0 / total))


@numba.njit(cache=True, fastmath=_FAST)
def step(table, whh, bhh, wo, bo, n_classes, i, h, h_out, pred, conf):
    _gru(table, whh, bhh, i, h, h_out)
    logits = np.empty(wo.shape[0], dtype=np.float32)
    matvec(wo, h_out, bo, logits)
    for d in range(pred.shape[0]):
        _best(logits[d * n_classes:(d + 1) * n_classes], pred, conf, d)


@numba.njit(cache=True, fastmath=_FAST)
def recur(table, whh, bhh, ids, h, states):
    """The state after each of `ids` from `h`: rows of `states`."""
    prev = h
    for t in range(ids.shape[0]):
        _gru(table, whh, bhh, ids[t], prev, states[t])
        prev = states[t]


@numba.njit(cache=True, fastmath=_FAST)
def answers(logits, pred, conf):
    for t in range(logits.shape[0]):
        for d in range(logits.shape[1]):
            _best(logits[t, d], pred[t], conf[t], d)


@numba.njit(cache=True)
def score_row(out, ids, conf, r, base, delays, correct, conf_sum, sign):
    """Add (sign=+1) or take back (-1) row r in every head's correct-count and confidence sum:
    the answer of head j is right when it is the symbol delays[j] steps back."""
    for j in range(delays.shape[0]):
        src = r - delays[j]
        if src >= 0 and src + base >= 0 and out[r, j] == ids[src]:
            correct[j] += sign
        conf_sum[j] += sign * np.int64(conf[r, j])
