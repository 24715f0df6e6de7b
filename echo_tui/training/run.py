"""Training from the app: trainer.train in a child process, reporting back through its stdout.

A process, not a thread: the GIL never stalls the keys, and cancelling is a kill that leaves
nothing running. The child runs at a lower priority on all but one core, so the app keeps one
for the keys. At every held-out check it writes one frame (`frames`): a JSON header with its
figures, then the weights as safetensors bytes (the one format echo-gru reads weights in).
Nothing is pickled. `python -m echo_tui.training CONFIG_JSON` is the child (`child`).

The child is not trusted to be well: every frame is checked (sizes bounded before anything is
allocated, the header a JSON object of known kind and typed figures, the weights finite and of
the model's shapes), a child that falls silent for longer than its recipe allows is named as
stalled, its stderr is kept only as a bounded tail, it is reaped when it ends, and it ends when
the app does (it watches its stdin, a pipe only the app holds). Each failure reaches the panel
as one sentence.

A run says what happens as `Checked`, `Finished` and `Failed` (`checkpoint`). No Textual here: the app's
`TrainingControl` follows a `TrainingRun`, and its training panel shows it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from types import SimpleNamespace

from trainer.text import clip

from .checkpoint import Checked, Failed, Finished, RunMessage, frame_message
from .frames import MESSAGE_MAX, PARENT_ENV, PAYLOAD_FALLBACK, FrameError, read_frame

PAYLOAD_SLACK = 1024 * 1024  # payload bound: twice the weights' bytes for the config, plus this
STDERR_TAIL = 64 * 1024  # bytes of the child's stderr kept: its last words are at the end
STALL_FLOOR_S = 30.0  # the child's start-up (importing torch: ~5 s on a slow laptop; CUDA's)
SLOW_FLOPS = 2e9  # a pace below any machine's: this 2-core Xeon trains at ~60 GFLOP/s a thread
REAP_WAIT_S = 5.0  # after its stdout ends, the child has this long to exit before it is killed

def shape(cfg: dict):
    """The model of `cfg` counted, not built (building one, even on torch's meta device, held
    the app's thread for a second as a run started): its kind, head delays, symbols and
    parameters; None when `cfg` makes no model (the child says why)."""
    from math import prod

    from trainer.alphabet import Alphabet
    from trainer.weights import expected_shapes  # the loader's own count, from the same sizes

    try:
        kind, h, d = cfg["kind"], int(cfg["hidden"]), int(cfg["delay"])
        cell = cfg.get("cell", "gru")
        alphabet = Alphabet.named(cfg["alphabet"])
        if kind not in ("fixed", "variable") or h < 1 or d < 0:
            return None
        shapes = expected_shapes(kind, h, d, alphabet, cell)
    except (KeyError, TypeError, ValueError):
        return None
    delays = [d] if kind == "fixed" else list(range(d + 1))
    return SimpleNamespace(kind=kind, head_delays=delays, symbols=len(alphabet),
                           params=sum(prod(s) for s in shapes.values()))


def payload_bound(cfg: dict, model=None) -> int:
    """The most bytes a frame's payload may have: twice the weights of `cfg`'s model (float32,
    as the child sends them) and 1 MiB for safetensors' header; PAYLOAD_FALLBACK without one."""
    model = model if model is not None else shape(cfg)
    if model is None:
        return PAYLOAD_FALLBACK
    return 2 * 4 * model.params + PAYLOAD_SLACK


def stall_bound(cfg: dict, model=None) -> float:
    """Seconds the child of `cfg` may send nothing before it is named stalled: its start-up
    (STALL_FLOOR_S), then one check interval, eval_every training steps (forward and backward)
    and a held-out check with its confirmation and long streams, counted in floating-point
    operations at SLOW_FLOPS, a pace far below any machine's, so that a slow or busy machine is
    not taken for a stalled child (the fixed recipe: ~45 s, the long ones: ~8 min)."""
    model = model if model is not None else shape(cfg)
    if model is None:
        return 10 * STALL_FLOOR_S
    from trainer.evaluate import check_lengths
    from trainer.train import confirm_size

    try:
        h, heads, k = cfg["hidden"], len(model.head_delays), model.symbols + 1
        per_token = 12 * h * h + 2 * h * heads * k  # forward: the GRU's three gates, every head
        lo, hi = check_lengths(model)
        per_char = hi / max(1, lo - max(model.head_delays))  # steps run per character compared
        chars = cfg["heldout_chars"] + (cfg["confirm_chars"] or confirm_size(cfg["target"]))
        steps = (3 * cfg["eval_every"] * cfg["batch"] * cfg["chunk"] + chars * per_char
                 + 8 * cfg["heldout_stream_steps"])
    except (KeyError, TypeError, ValueError, ArithmeticError):  # a config this does not know
        return 10 * STALL_FLOOR_S
    return STALL_FLOOR_S + steps * per_token / SLOW_FLOPS

class TrainingRun:
    """A training run of `cfg` (a TrainConfig) in a child process.

    `argv` is the child's command: by default `python -m echo_tui.training CONFIG_JSON`; tests
    give fake children. `stall_after` (seconds, None: never) and `payload_max` (bytes) are
    this run's bounds, from `cfg`; tests shorten them (they are read as frames come)."""

    def __init__(self, cfg, argv: list[str] | None = None) -> None:
        self.cfg = asdict(cfg)
        self.argv = list(argv) if argv is not None else [
            sys.executable, "-m", "echo_tui.training", json.dumps(self.cfg)]
        model = shape(self.cfg)
        self.payload_max = payload_bound(self.cfg, model)
        self.stall_after: float | None = stall_bound(self.cfg, model)
        self._messages: queue.Queue = queue.Queue()
        self._tail = bytearray()  # the last STDERR_TAIL bytes of the child's stderr
        self._tail_lock = threading.Lock()
        self._stderr_done = threading.Event()
        self._process: subprocess.Popen | None = None
        self._heard = 0.0  # time.monotonic() of the child's start, then of its last frame
        self._final: Failed | None = None  # the run's last word: every later get() returns it
        self._truncated = False  # stdout ended inside a frame

    def start(self) -> None:
        env = None
        # PR_SET_PDEATHSIG fires when the thread that spawned the child ends: only the main
        # thread lives as long as the app, so only from there may the child ask for it
        if threading.current_thread() is threading.main_thread():
            env = {**os.environ, PARENT_ENV: str(os.getpid())}
        self._heard = time.monotonic()
        # stdin: a pipe only this process holds, closed by its death (see die_with_parent)
        self._process = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        threading.Thread(target=self._drain, args=(self._process.stderr,), daemon=True,
                         name="echo-gru training stderr").start()
        threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True,
                         name="echo-gru training reader").start()

    def _drain(self, stream) -> None:
        """Keep the end of the child's stderr, however much it writes."""
        try:
            while chunk := stream.read1(STDERR_TAIL):
                with self._tail_lock:
                    self._tail += chunk
                    del self._tail[:-STDERR_TAIL]
        except (OSError, ValueError):
            pass
        finally:
            self._stderr_done.set()

    @property
    def stderr_tail(self) -> bytes:
        """The end of what the child wrote to stderr (at most STDERR_TAIL bytes)."""
        with self._tail_lock:
            return bytes(self._tail)

    def _read(self, stream) -> None:
        """Frames to messages, until the child's stdout ends; a frame that is not as the child
        writes them ends the run with one sentence, and so does anything else that goes wrong
        here: this thread always ends by reaping the child and queueing the end."""
        try:
            try:
                while (frame := read_frame(stream, self.payload_max)) is not None:
                    self._heard = time.monotonic()
                    self._messages.put(frame_message(*frame, self.cfg))
            except EOFError:
                self._truncated = True
            except FrameError as e:
                self._fail(f"the training process sent a malformed message ({e})")
            except BaseException as e:  # noqa: BLE001 - the panel must hear of it, whatever it is
                self._fail(clip(f"the training process's messages could not be read "
                                f"({type(e).__name__}: {e})", MESSAGE_MAX))
            finally:
                self._reap()
        finally:
            self._messages.put(None)  # the end: the child has gone

    def _fail(self, sentence: str) -> None:
        self._messages.put(Failed(sentence))
        self._kill()

    def _kill(self) -> None:
        try:
            self._process.kill()
        except OSError:
            pass

    def _reap(self) -> None:
        """Wait for the ended child (killing it if it lingers), so no zombie is left; then give
        its stderr a moment to reach the tail, for its last words."""
        try:
            try:
                self._process.wait(timeout=REAP_WAIT_S)
            except subprocess.TimeoutExpired:
                self._kill()
                self._process.wait(timeout=REAP_WAIT_S)
            self._stderr_done.wait(timeout=1.0)
            self._process.stdin.close()
        except Exception:  # noqa: BLE001 - a child that will not die is not the reader's end
            pass

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def get(self, timeout: float) -> RunMessage | None:
        """The next message (`Checked`, `Finished` or `Failed`), or None when none came within
        `timeout` seconds. After a `Failed` every call returns it, and the end of the child is
        one (its last words)."""
        if self._final is not None:
            return self._final
        try:
            got = self._messages.get(timeout=timeout)
        except queue.Empty:
            return self._stalled()
        if got is None:
            self._final = Failed(self._last_words())
        elif isinstance(got, Failed):
            self._final = got
        return self._final or got

    def _stalled(self) -> Failed | None:
        """The run's end when the child has sent nothing for longer than `stall_after`."""
        if self.stall_after is None or self._process is None:
            return None
        silent = time.monotonic() - self._heard
        if silent <= self.stall_after:
            return None
        if self.alive:
            self._kill()
            self._final = Failed(f"the training process has sent nothing for {silent:.0f} s "
                                 "(stopped or hung)")
        else:  # it has ended, but something else holds its stdout open
            self._final = Failed(self._last_words())
        return self._final

    def _last_words(self) -> str:
        """The child's end: its exit status and the last line it wrote to stderr."""
        lines = [line.strip() for line in self.stderr_tail.decode(errors="replace").splitlines()
                 if line.strip()]
        code = self._process.poll() if self._process else None
        how = "ended in the middle of a message" if self._truncated else "ended"
        return clip(f"the training process {how} (exit status {code})"
                    + (f": {lines[-1]}" if lines else ""), MESSAGE_MAX)

    def cancel(self) -> None:
        """Stop the child now; returns once it is gone (within a second)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            try:
                self._process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass

