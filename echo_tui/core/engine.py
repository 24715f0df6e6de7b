"""How a session runs its model: one step per keystroke, or a run of steps for a paste.

An engine answers in numpy: for each step, every head's answer (argmax), its probability as
one byte (255 = certain), and the hidden state.

Every cell (GRU, LSTM, plain tanh RNN) streams the same way. An engine's state is one float32
vector of `state_size` floats: h for a GRU or an RNN (H), h then c for an LSTM (2H), so undo
restores an LSTM's cell state too; the heads, and the memory view, read its first H (h).

`LeanEngine` is what sessions use. The cell's input comes from an embedding, so the input half of
every gate, W_ih · embed(id) + b_ih, is one row of a table computed once per model; a step is
then one H x gates·H matrix-vector product, the gate arithmetic, and the heads' product. For one
stream, PyTorch spends most of a step dispatching its operators, not computing; so the step is
one compiled loop (numba), which writes straight into the session's rows. A paste runs the
recurrence in that loop and the heads as one matrix product over all its states; a long paste
goes a chunk at a time, the next chunk's recurrence on a second thread while this one's heads are
computed and stored (`runs`).

`TorchEngine` is the reference: the model's own PyTorch calls. The tests hold the two equal.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

import numpy as np
import torch

from .kernels import CELL_NUMBERS, answers, recur, step

STATE_LABELS = {"gru": "h (the GRU's hidden state)", "rnn": "h (the RNN's hidden state)",
                "lstm": "h (the LSTM's output; its cell state c is kept for undo)"}


def engine_for(model):
    """The engine a session runs `model` with."""
    return LeanEngine(model)


def state_size(model) -> int:
    """Floats in an engine's state for `model`: H, or an LSTM's 2H (h, then c)."""
    return model.hidden_size * (2 if model.cell == "lstm" else 1)


def confidence_bytes(probs: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] as bytes: round(p * 255)."""
    return np.rint(probs * 255).astype(np.uint8)


def serial_runs(engine, ids: np.ndarray, h: np.ndarray, chunk: int):
    """`engine.run` over `ids` a chunk at a time, each from the state the last one ended in."""
    for start in range(0, len(ids), chunk):
        pred, conf, states = engine.run(ids[start:start + chunk], h)
        h = states[-1]
        yield pred, conf, states


class TorchEngine:
    """The model's `step` and `memory`, under no_grad: the reference."""

    def __init__(self, model):
        self.model = model
        self.state_size = state_size(model)
        self._ids = [torch.tensor([i]) for i in range(len(model.alphabet) + 1)]

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.state_size, dtype=np.float32)

    def _state(self, s: np.ndarray):
        """A state vector as the model's state: (1, 1, H), or an LSTM's pair (h, c)."""
        t = torch.from_numpy(s)
        if self.model.cell == "lstm":
            return tuple(t.view(2, 1, 1, -1))
        return t.view(1, 1, -1)

    @torch.no_grad()
    def step_into(self, i: int, h: np.ndarray, h_out: np.ndarray, pred: np.ndarray,
                  conf: np.ndarray) -> None:
        """One symbol from state `h`: the new state into `h_out`, every head's answer and
        confidence byte into `pred` and `conf`."""
        logits, h_new = self.model.step(self._ids[i], self._state(h))
        best, answer = logits[0].softmax(-1).max(-1)
        h_out[:] = (torch.cat(h_new, -1) if isinstance(h_new, tuple) else h_new).view(-1).numpy()
        pred[:] = answer.numpy()
        conf[:] = confidence_bytes(best.numpy())

    @torch.no_grad()
    def run(self, ids: np.ndarray, h: np.ndarray):
        """Symbols in order from state `h`: (answers (k, heads), confidence bytes (k, heads),
        the state after each step (k, state_size))."""
        if self.model.cell == "lstm":  # the layer gives every step's h but only the last c
            return self._run_lstm(ids, h)
        x = torch.from_numpy(ids.astype(np.int64))[None]
        out, _ = self.model.memory(x, self._state(h))
        best, answer = self.model.all_heads(out[0]).softmax(-1).max(-1)
        return answer.numpy(), confidence_bytes(best.numpy()), out[0].numpy()

    def _run_lstm(self, ids: np.ndarray, h: np.ndarray):
        heads = len(self.model.head_delays)
        pred = np.empty((len(ids), heads), dtype=np.int64)
        conf = np.empty((len(ids), heads), dtype=np.uint8)
        states = np.empty((len(ids), self.state_size), dtype=np.float32)
        for t, i in enumerate(ids.tolist()):
            self.step_into(i, h, states[t], pred[t], conf[t])
            h = states[t]
        return pred, conf, states

    def runs(self, ids: np.ndarray, h: np.ndarray, chunk: int):
        """`run` a chunk at a time: (answers, confidence bytes, states) per chunk."""
        return serial_runs(self, ids, h, chunk)

    def ahead(self, ids: np.ndarray, h: np.ndarray) -> None:
        """The reference computes nothing ahead."""


class LeanEngine:
    """The same model as a gate table, two weight matrices and compiled loops."""

    def __init__(self, model):
        sd = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
        cell = model.cell
        with torch.no_grad():
            table = sd["embed.weight"] @ sd[f"{cell}.weight_ih_l0"].T + sd[f"{cell}.bias_ih_l0"]
        self.cell = CELL_NUMBERS[cell]
        self.hidden_size = model.hidden_size
        self.state_size = state_size(model)
        self.k = len(model.alphabet) + 1  # classes per head
        self.table = _f32(table)  # (K, gates·H): the input half of every gate, per symbol
        self.whh = _f32(sd[f"{cell}.weight_hh_l0"])  # (gates·H, H)
        self.bhh = _f32(sd[f"{cell}.bias_hh_l0"])
        self.wo = _f32(sd["heads.weight"])  # (heads * K, H)
        self.bo = _f32(sd["heads.bias"])
        self._wo_t = torch.from_numpy(np.ascontiguousarray(self.wo.T))  # the paste's product
        self._bo = torch.from_numpy(self.bo)
        self._ahead = None  # (ids, h, the future of their states): see `ahead`

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.state_size, dtype=np.float32)

    def step_into(self, i: int, h: np.ndarray, h_out: np.ndarray, pred: np.ndarray,
                  conf: np.ndarray) -> None:
        step(self.cell, self.table, self.whh, self.bhh, self.wo, self.bo, self.k, i, h, h_out,
             pred, conf)

    def run(self, ids: np.ndarray, h: np.ndarray):
        states = self._recur(ids, h)
        return (*self._answers(states), states)

    def runs(self, ids: np.ndarray, h: np.ndarray, chunk: int):
        """`run` a chunk at a time, pipelined: while this thread computes one chunk's heads
        and the caller stores them, the next chunk's recurrence runs on another (the compiled
        loop and the matrix product both let go of the GIL). The recurrence is the longer
        half, so on two cores a paste takes about its time alone. The heads' product keeps to
        one thread meanwhile: a second one would only take turns with the recurrence."""
        pending, stop = self._take_ahead(ids, h)
        if pending is None:
            stop = min(chunk, len(ids))
            pending = _RECURRENCE.submit(self._recur, ids[:stop], h)
        try:
            with _ONE_TORCH_THREAD.held():
                while pending is not None:
                    states = pending.result()
                    pending = (_RECURRENCE.submit(self._recur, ids[stop:stop + chunk],
                                                  states[-1]) if stop < len(ids) else None)
                    stop += chunk
                    for start in range(0, len(states), chunk):
                        part = states[start:start + chunk]
                        yield (*self._answers(part), part)
        finally:
            if pending is not None:  # abandoned part way: let the thread finish with our arrays
                wait([pending])

    def ahead(self, ids: np.ndarray, h: np.ndarray) -> None:
        """Start the recurrence of `ids` from `h` now, for a `runs` that will begin with them
        from that same state (what the caller does meanwhile, such as drawing a frame, then
        costs the paste nothing). Any other `runs` ignores it."""
        ids = ids.copy()
        self._ahead = (ids, h, _RECURRENCE.submit(self._recur, ids, h))

    def _take_ahead(self, ids: np.ndarray, h: np.ndarray):
        """(the future of the states `ahead` started, how many) when it began from `h` (the
        very array: states are replaced, never changed in place) with the first of `ids`;
        else (None, 0)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            first, h_then, future = ahead
            if h_then is h and np.array_equal(first, ids[:len(first)]):
                return future, len(first)
        return None, 0

    def _recur(self, ids: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The state after each of `ids`, from `h`."""
        states = np.empty((len(ids), self.state_size), dtype=np.float32)
        recur(self.cell, self.table, self.whh, self.bhh, ids.astype(np.int64), h, states)
        return states

    def _answers(self, states: np.ndarray):
        """Every head's answer and confidence byte for each state (from its h)."""
        h = states if self.state_size == self.hidden_size else states[:, :self.hidden_size]
        logits = torch.addmm(self._bo, torch.from_numpy(h), self._wo_t).numpy()
        heads = logits.shape[1] // self.k
        pred = np.empty((len(states), heads), dtype=np.int64)
        conf = np.empty((len(states), heads), dtype=np.uint8)
        answers(logits.reshape(len(states), heads, self.k), pred, conf)
        return pred, conf


# one thread for every engine: a session feeds from one thread, so one paste's recurrence runs
# at a time, and a thread per engine would outlive the engine of every model switch
_RECURRENCE = ThreadPoolExecutor(1, thread_name_prefix="echo-recurrence")


def stop_threads() -> None:
    """End the recurrence's thread, if it started; the next paste starts a new one. A process
    about to fork calls this: a child would inherit the pool but not its thread, and wait on it
    for ever (`echo-tui serve` forks each tab's session from a preloaded parent)."""
    global _RECURRENCE
    _RECURRENCE.shutdown(wait=True)
    _RECURRENCE = ThreadPoolExecutor(1, thread_name_prefix="echo-recurrence")


class OneTorchThread:
    """The one owner of torch's thread count while pastes run: inside, the heads' product keeps
    to one thread; the count from before comes back when the last one inside leaves. Sessions
    may feed from two threads at once (the keys' worker, the training relay's re-echo), so
    each saving and restoring the count on its own could leave it at 1 for good."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._before = 1

    @contextmanager
    def held(self):
        with self._lock:
            if not self._inside:
                self._before = torch.get_num_threads()
                torch.set_num_threads(1)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if not self._inside:
                    torch.set_num_threads(self._before)


_ONE_TORCH_THREAD = OneTorchThread()


def _f32(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.numpy(), dtype=np.float32)
