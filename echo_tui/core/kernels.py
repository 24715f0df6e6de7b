"""The compiled loops (numba) behind the lean engine and the session's per-step bookkeeping.

Each cell's step reads a state vector and writes the next: a GRU's or a plain RNN's is h (H
floats), an LSTM's is h then c (2H), so the heads, which read h, read the state's first H.
`step` and `recur` take the cell as a number (GRU, LSTM, RNN below).

For one stream, a step of a small GRU is a few hundred thousand multiply-adds: PyTorch or numpy
spend more time dispatching their operators than computing them. Each loop here is one call.

The float32 maths and the compiler's settings are trainer.fastmath's (shared with the trainer's
fused GRU). Compiled code is cached beside the module, so only the first run compiles.
"""

from __future__ import annotations

import numba
import numpy as np

from trainer.fastmath import FAST, JIT as _JIT, F, fexp, sigmoid, tanh


@numba.njit(**_JIT)
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


@numba.njit(**_JIT)
def _gru(table, whh, bhh, i, h, h_out):
    """h_out = GRU(h, symbol i), PyTorch's gate order (reset, update, new)."""
    n_h = h.shape[0]
    gh = np.empty(3 * n_h, dtype=np.float32)
    matvec(whh, h, bhh, gh)
    for j in range(n_h):
        r = sigmoid(table[i, j] + gh[j])
        z = sigmoid(table[i, n_h + j] + gh[n_h + j])
        n = tanh(table[i, 2 * n_h + j] + r * gh[2 * n_h + j])
        h_out[j] = n + z * (h[j] - n)


@numba.njit(**_JIT)
def _lstm(table, whh, bhh, i, s, s_out):
    """s_out = LSTM(s, symbol i), s = (h, c); PyTorch's gate order (input, forget, cell,
    output): c' = f c + i g, h' = o tanh(c')."""
    n_h = s.shape[0] // 2
    gh = np.empty(4 * n_h, dtype=np.float32)
    matvec(whh, s, bhh, gh)  # reads the first H of s: h
    for j in range(n_h):
        ig = sigmoid(table[i, j] + gh[j])
        fg = sigmoid(table[i, n_h + j] + gh[n_h + j])
        g = tanh(table[i, 2 * n_h + j] + gh[2 * n_h + j])
        og = sigmoid(table[i, 3 * n_h + j] + gh[3 * n_h + j])
        c = fg * s[n_h + j] + ig * g
        s_out[n_h + j] = c
        s_out[j] = og * tanh(c)


@numba.njit(**_JIT)
def _rnn(table, whh, bhh, i, h, h_out):
    """h_out = tanh(table[i] + whh h + bhh): PyTorch's tanh RNN."""
    n_h = h.shape[0]
    gh = np.empty(n_h, dtype=np.float32)
    matvec(whh, h, bhh, gh)
    for j in range(n_h):
        h_out[j] = tanh(table[i, j] + gh[j])


GRU, LSTM, RNN = 0, 1, 2  # the cell numbers `step` and `recur` take
CELL_NUMBERS = {"gru": GRU, "lstm": LSTM, "rnn": RNN}


@numba.njit(inline="always")
def _cell(cell, table, whh, bhh, i, s, s_out):
    if cell == GRU:
        _gru(table, whh, bhh, i, s, s_out)
    elif cell == LSTM:
        _lstm(table, whh, bhh, i, s, s_out)
    else:
        _rnn(table, whh, bhh, i, s, s_out)


LANES = 16  # float32s in a 512-bit vector


@numba.njit(inline="always", fastmath=FAST, error_model="numpy")
def _answer(logits, pred, conf):
    """For each head (a row of `logits`): its answer, the first of its largest logits, and the
    softmax probability of that answer as a byte. The largest is found as LANES running maxima,
    one per vector lane, then the largest of those: a single running maximum is a chain of
    compares the compiler leaves scalar (unless told there is no NaN). Each pass vectorises."""
    k = logits.shape[1]
    full = k - k % LANES
    lanes = np.empty(LANES, dtype=np.float32)
    for d in range(logits.shape[0]):
        x = logits[d]
        top = x[0]
        if full:
            for i in range(LANES):
                lanes[i] = x[i]
            for c0 in range(LANES, full, LANES):
                for i in range(LANES):
                    lanes[i] = x[c0 + i] if x[c0 + i] > lanes[i] else lanes[i]
            for i in range(LANES):
                top = lanes[i] if lanes[i] > top else top
        for c in range(full, k):
            top = x[c] if x[c] > top else top
        best = k
        for c in range(k):
            best = min(best, c if x[c] == top else k)
        total = F(0.0)
        for c in range(k):
            total += fexp(x[c] - top)
        pred[d] = best if best < k else 0  # no logit equals a NaN top: blank, as before
        conf[d] = np.uint8(np.rint(255.0 / total))


@numba.njit(**_JIT)
def step(cell, table, whh, bhh, wo, bo, n_classes, i, h, h_out, pred, conf):
    """One symbol through `cell` from state h into h_out, and every head's answer and
    confidence byte from the new h (the first wo.shape[1] floats of the state)."""
    _cell(cell, table, whh, bhh, i, h, h_out)
    logits = np.empty(wo.shape[0], dtype=np.float32)
    matvec(wo, h_out, bo, logits)
    _answer(logits.reshape(pred.shape[0], n_classes), pred, conf)


@numba.njit(**_JIT)
def recur(cell, table, whh, bhh, ids, h, states):
    """The state after each of `ids` from `h`: rows of `states`."""
    prev = h
    for t in range(ids.shape[0]):
        _cell(cell, table, whh, bhh, ids[t], prev, states[t])
        prev = states[t]


@numba.njit(**_JIT)
def answers(logits, pred, conf):
    """`_answer` for each step: logits (steps, heads, classes)."""
    for t in range(logits.shape[0]):
        _answer(logits[t], pred[t], conf[t])


@numba.njit(cache=True)
def score_row(out, ids, conf, r, base, delays, correct, conf_sum, sign):
    """Add (sign=+1) or take back (-1) row r in every head's correct-count and confidence sum:
    the answer of head j is right when it is the symbol delays[j] steps back."""
    for j in range(delays.shape[0]):
        src = r - delays[j]
        if src >= 0 and src + base >= 0 and out[r, j] == ids[src]:
            correct[j] += sign
        conf_sum[j] += sign * np.int64(conf[r, j])
