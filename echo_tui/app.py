"""echo-tui: type, and watch a GRU echo your keys back with a delay.

The app is a view of one EchoSession (`app.session`). Torch and the model load in a thread after
the first frame is drawn; keys pressed meanwhile wait in a queue and are fed, in order, once the
model is ready. Long pastes go through the same queue in slices, with the screen redrawn between
slices, so a 100,000-character paste never freezes it.

This module imports neither torch nor trainer at import time: that is what makes the first frame
fast.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from .widgets import DelaySlider, HelpScreen, MemoryView, Tapes, TextLine

MIN_WIDTH, MIN_HEIGHT = 60, 18
PASTE_SLICE = 2048  # symbols fed per model call while a long paste goes through
FRAME_S = 1 / 30  # feed for about a frame, then let the screen draw and keys act
SHIPPED = {"variable": "variable_delay", "fixed": "fixed_delay"}

_DELAY = Binding.Group("delay")
SCREEN_BINDINGS = [
    Binding("left", "app.delay(-1)", "delay", id="delay-down", group=_DELAY),
    Binding("right", "app.delay(1)", "delay", id="delay-up", group=_DELAY),
    Binding("left_square_bracket", "app.delay(-1)", "delay -1", show=False,
            id="delay-down-bracket", key_display="["),
    Binding("right_square_bracket", "app.delay(1)", "delay +1", show=False,
            id="delay-up-bracket", key_display="]"),
    Binding("backspace", "app.undo", "undo", id="undo"),
    Binding("ctrl+r", "app.reset", "reset", id="reset"),
    Binding("f2", "app.toggle_memory", "memory", id="toggle-memory"),
    Binding("f3", "app.switch_model", "model", id="switch-model"),
]
APP_BINDINGS = [
    Binding("f1", "help", "help", id="help"),
    Binding("ctrl+q", "quit", "quit", id="quit", priority=True),
    Binding("ctrl+p", "command_palette", "commands", id="command-palette", priority=True,
            show=False),  # the footer shows the palette key on its right anyway
]
HELP = {  # action -> what the help screen says it does
    "app.delay(-1)": "shorten the delay by one step",
    "app.delay(1)": "lengthen the delay by one step",
    "app.undo": "undo one step; the memory goes back exactly",
    "app.reset": "forget what was typed and the GRU's memory",
    "app.toggle_memory": "show or hide the memory view",
    "app.switch_model": "switch: shipped variable- / fixed-delay model",
    "help": "open or close this help",
    "quit": "quit",
    "command_palette": "commands: reset, set delay, switch model…",
}


class EchoScreen(Screen):
    """The main screen: slider, tapes, memory, notice and status lines."""

    BINDINGS = SCREEN_BINDINGS

    def compose(self) -> ComposeResult:
        yield Header()
        yield DelaySlider(id="slider")
        tapes = Tapes(id="tapes")
        tapes.border_title = "typed, and its echo"
        yield tapes
        memory = MemoryView(id="memory")
        memory.border_title = "memory: the GRU's hidden state"
        memory.border_subtitle = "−1 blue · 0 grey · +1 orange"
        yield memory
        yield TextLine(id="notice")
        yield TextLine(id="status")
        yield Footer()
        yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)
        self.query_one("#memory").set_class(not self.app.show_memory, "-hidden")
        self.app.refresh_views()
        self.call_after_refresh(self.app.start_loading)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)
        self.call_after_refresh(self.app.refresh_views)  # the status line picks a form that fits

    def _fit(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"The terminal is too small: {width}×{height}.\n"
                f"echo-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}.")

    async def on_key(self, event: events.Key) -> None:
        # Every key that touches the stream is handled here, in arrival order. Left to bubble to
        # the app, a binding's key would run after printable keys that arrived behind it (a burst
        # "ab", backspace, "c" would come out "ab" instead of "ac").
        session = self.app.session
        ch = event.character
        typed = ch is not None and len(ch) == 1 and ch.isprintable()
        if not (typed and session is not None and session.alphabet.id_of(ch) is not None):
            bindings = self._bindings.key_to_bindings.get(event.key)
            if bindings:
                event.stop()
                event.prevent_default()
                await self.run_action(bindings[0].action)
                return
        if typed:
            event.stop()
            event.prevent_default()
            self.app.feed_text(ch)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.app.feed_text(event.text)

    def on_delay_slider_picked(self, message: DelaySlider.Picked) -> None:
        self.app.set_delay(message.delay)


class EchoApp(App):
    """Every keystroke through the GRU, its echo under what you typed, at a delay you choose."""

    CSS_PATH = "app.tcss"
    TITLE = "echo-gru"
    BINDINGS = APP_BINDINGS

    def __init__(self, weights: str | Path | None = None, delay: int | None = None, *,
                 memory: bool = True, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.weights = Path(weights) if weights is not None else None
        self.start_delay = delay
        self.session = None  # the EchoSession, once the model has loaded
        self.error: str | None = None  # why the app gave up at start, for the command line
        self.show_memory = memory
        self._clock = clock  # the sessions' timer; tests pass a fake one for stable pictures
        self._queue: deque[tuple] = deque()  # ("feed", text) / ("backspace",), in key order
        self._pumping = False
        self._told_alphabet = False
        self._switching = False
        self.first_frame_at: float | None = None
        self.model_ready_at: float | None = None

    def get_default_screen(self) -> Screen:
        self.main = EchoScreen(id="main")
        return self.main

    def start_loading(self) -> None:
        """Called once the first frame is drawn: only now does torch get imported."""
        self.first_frame_at = time.perf_counter()
        self._load(self.weights, self.start_delay, switching=False)

    # -- loading ---------------------------------------------------------------------------
    def load_session(self, path: Path | None, delay: int | None, strict: bool = True):
        """Load a model and start a session on it (runs in a thread; tests may wrap it)."""
        import torch

        torch.set_num_threads(1)  # a keystroke's step is tiny: more threads only add latency
        from trainer import load_model, shipped_weights

        from .session import EchoSession

        path = shipped_weights(SHIPPED["variable"]) if path is None else path
        model = load_model(path)
        with torch.no_grad():  # warm up: the first key should not pay for it
            model.step(torch.ones(1, dtype=torch.long))
            model.memory(torch.ones(1, 8, dtype=torch.long))
        if not strict and delay not in model.head_delays:
            delay = None
        kwargs = {"clock": self._clock} if self._clock is not None else {}
        return EchoSession(model, delay, **kwargs), Path(path)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, path: Path | None, delay: int | None, switching: bool) -> None:
        try:
            session, path = self.load_session(path, delay, strict=not switching)
        except Exception as e:  # noqa: BLE001 - whatever it is, the app must not hang "loading"
            self.call_from_thread(self._load_failed, e, switching)
            return
        self.call_from_thread(self._model_ready, session, path)

    def _load_failed(self, error: Exception, switching: bool) -> None:
        from trainer import WeightsError

        self._switching = False
        if switching or self.session is not None:
            # plain text: a path or message with "[/b]" in it would be a markup error
            self.notify(str(error), title="Cannot switch model", severity="error", markup=False)
            self._notice("")
            self.refresh_views()
            return
        # a bad file exits 1 with the WeightsError's sentence; a bad start delay exits 2
        self.error = str(error)
        usage = isinstance(error, ValueError) and not isinstance(error, WeightsError)
        self.exit(return_code=2 if usage else 1)

    def _model_ready(self, session, path: Path) -> None:
        old, self.session = self.session, session
        self._switching = False
        self.weights_path = path
        self.sub_title = path.name
        if old is not None and old.steps:
            # what was typed carries over: fed to the new model before any key still queued
            self._queue.appendleft(("feed", old.stream))
        if self.model_ready_at is None:
            self.model_ready_at = time.perf_counter()
        self.main.query_one("#memory").refresh(layout=True)
        self.refresh_views()
        self._kick()

    # -- feeding -----------------------------------------------------------------------------
    def feed_text(self, text: str) -> None:
        """Feed typed or pasted text: now if nothing waits before it, else after what waits."""
        if self.session is not None and not self._queue and len(text) <= PASTE_SLICE:
            self._feed_now(text)
            self.refresh_views()
            return
        if self._queue and self._queue[-1][0] == "feed":
            self._queue[-1] = ("feed", self._queue[-1][1] + text)
        else:
            self._queue.append(("feed", text))
        self._kick()
        self.refresh_views()

    @property
    def busy(self) -> bool:
        """True while keys or a paste wait to be fed (or the model is still loading)."""
        return bool(self._queue) or self._pumping or self.session is None or self._switching

    async def wait_idle(self) -> None:
        """Until the model is ready and everything queued has been fed (for tests and bench)."""
        while self.busy:
            await asyncio.sleep(0.005)

    def _kick(self) -> None:
        if not self._pumping and self.session is not None and self._queue:
            self._pumping = True
            self.run_worker(self._pump(), group="feed", exclusive=False)

    async def _pump(self) -> None:
        try:
            while self._queue and self.session is not None:
                # a redraw costs tens of milliseconds: one per frame, not one per slice
                frame_ends = time.perf_counter() + FRAME_S
                while self._queue and time.perf_counter() < frame_ends:
                    op = self._queue.popleft()
                    if op[0] == "feed":
                        text = op[1]
                        if len(text) > PASTE_SLICE:
                            self._queue.appendleft(("feed", text[PASTE_SLICE:]))
                            text = text[:PASTE_SLICE]
                        self._feed_now(text)
                    else:
                        self._backspace_now()
                waiting = sum(len(o[1]) for o in self._queue if o[0] == "feed")
                if waiting:
                    self._notice(f"feeding the paste: {waiting:,} characters to go")
                self.refresh_views()
                await asyncio.sleep(0)  # let the screen draw and other keys act
        finally:
            self._pumping = False

    def _feed_now(self, text: str) -> None:
        session = self.session
        steps = session.feed(text)
        skipped = session.last_skipped
        if skipped is None:
            self._notice("")
            return
        if len(text) == 1:
            self._notice(f"skipped {skipped!r}: not in the model's alphabet, so no step")
        else:
            self._notice(f"fed {steps:,} steps; skipped {len(text) - steps:,} characters "
                         "outside the model's alphabet")
        if not self._told_alphabet:
            self._told_alphabet = True
            self.notify(f"This model reads only {describe_alphabet(session.alphabet)}; other "
                        "keys are shown as skipped and are no step of the GRU.",
                        title=f"{skipped!r} skipped", markup=False)

    def _backspace_now(self) -> None:
        session = self.session
        if session.backspace():
            self._notice("")
        elif session.steps:
            self._notice(f"cannot undo further: only the last {session.undo_steps:,} steps "
                         "can be undone")

    def _notice(self, text: str) -> None:
        self.main.query_one("#notice", TextLine).show(text)

    # -- actions -----------------------------------------------------------------------------
    def action_undo(self) -> None:
        if self.session is None or self._queue:
            self._queue.append(("backspace",))
            self._kick()
            return
        self._backspace_now()
        self.refresh_views()

    def action_reset(self) -> None:
        self._queue.clear()  # a reset also drops what was still waiting to be fed
        if self.session is not None:
            self.session.reset()
        self._notice("reset: the stream and the GRU's memory are empty")
        self.refresh_views()

    def action_delay(self, step: int) -> None:
        session = self.session
        if session is None:
            return
        if session.kind == "fixed":
            self._notice(f"the fixed-delay model echoes at delay {session.delay} only")
            return
        delays = session.delays
        k = delays.index(session.delay) + step
        self.set_delay(delays[max(0, min(len(delays) - 1, k))])

    def set_delay(self, delay: int) -> None:
        """Show the whole stream's echo at `delay` (no re-run: every head was kept)."""
        if self.session is None:
            return
        try:
            self.session.delay = delay
        except ValueError as e:
            self._notice(str(e))
            return
        self.refresh_views()

    def action_toggle_memory(self) -> None:
        self.show_memory = not self.show_memory
        self.main.query_one("#memory").set_class(not self.show_memory, "-hidden")

    def action_switch_model(self) -> None:
        if self.session is None or self._switching:
            self._notice("the model is still loading")
            return
        from trainer import shipped_weights

        other = "fixed" if self.session.kind == "variable" else "variable"
        self._switching = True
        self._notice(f"loading the shipped {other}-delay model…")
        self._load(shipped_weights(SHIPPED[other]), self.session.delay, switching=True)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.help_rows(), self._help_intro()))

    def help_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every binding, keys of one action on one row."""
        alphabet = (describe_alphabet(self.session.alphabet) if self.session is not None
                    else "the model's symbols")
        keys: dict[str, list[str]] = {}
        for binding in [*SCREEN_BINDINGS, *APP_BINDINGS]:
            keys.setdefault(binding.action, []).append(self.get_key_display(binding))
        return [(alphabet, "one step each (upper case folds)"),
                ("other printable keys", "shown as skipped: no step"),
                ("paste", "every character in order, as if typed"),
                *((" or ".join(k), HELP[action]) for action, k in keys.items()),
                ("click the slider", "set the delay")]

    def _help_intro(self) -> str:
        return ("Each key you type is one step of a GRU, its memory kept from key to key. "
                "Under what you typed is its echo at the chosen delay: blanks as ·, "
                "mistakes highlighted.")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Reset", "Forget the stream and the GRU's memory (ctrl+r)",
                            self.action_reset)
        if self.session is not None:
            for d in self.session.delays:
                yield SystemCommand(f"Set delay {d}", f"Echo each key {d} steps later",
                                    partial(self.set_delay, d),
                                    discover=len(self.session.delays) <= 16)
        yield SystemCommand("Switch model", "Between the shipped variable- and fixed-delay "
                            "models (f3)", self.action_switch_model)
        yield SystemCommand("Toggle memory view", "Show or hide the GRU's hidden state (f2)",
                            self.action_toggle_memory)

    # -- drawing -----------------------------------------------------------------------------
    def refresh_views(self) -> None:
        """Redraw what shows the session; Textual paints at most once a frame, however often
        this is called."""
        main = self.main
        for widget in (main.query_one(Tapes), main.query_one(DelaySlider),
                       main.query_one(MemoryView)):
            widget.refresh()
        status = main.query_one("#status", TextLine)
        status.show(self.status_text(status.size.width or self.size.width))

    def status_text(self, width: int = 200) -> str:
        """Model kind, alphabet, hidden size, delay, steps, accuracy, the last step's latency;
        the longest form that fits in `width`."""
        s = self.session
        if s is None:
            name = self.weights.name if self.weights else "the shipped variable-delay model"
            return f"loading {name}…"
        acc = f"{100 * s.accuracy:.1f}%" if s.scored else "–"
        lat = [] if s.last_step_s is None else [f"{_duration(s.last_step_s)}/step"]
        full = [s.kind, short_alphabet(s.alphabet), f"hidden {s.model.hidden_size}",
                f"delay {s.delay}", f"{s.steps:,} steps", f"acc {acc}", *lat]
        short = [s.kind[:3], short_alphabet(s.alphabet), f"h{s.model.hidden_size}",
                 f"d{s.delay}", f"{s.steps:,} st", acc, *lat]
        for parts, sep in ((full, " · "), (short, " · "), (short, " ")):
            text = sep.join(parts)
            if len(text) <= width - 2:  # the line's padding
                break
        return text


def short_alphabet(alphabet) -> str:
    """The alphabet's symbols as runs: 'a–z', 'a–z 0–9'."""
    runs, syms, i = [], alphabet.symbols, 0
    while i < len(syms):
        j = i
        while j + 1 < len(syms) and ord(syms[j + 1]) == ord(syms[j]) + 1:
            j += 1
        runs.append(syms[i:j + 1] if j - i < 2 else f"{syms[i]}–{syms[j]}")
        i = j + 1
    return " ".join(runs)


def describe_alphabet(alphabet) -> str:
    """'letters (a–z)', 'alnum (a–z 0–9)', or just the runs when it has no preset name."""
    runs = short_alphabet(alphabet)
    return runs if alphabet.name == alphabet.symbols else f"{alphabet.name} ({runs})"


def _duration(seconds: float) -> str:
    if seconds < 1e-5:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms"


def create_app(weights: str | Path | None = None, delay: int | None = None, **kwargs) -> EchoApp:
    """The app on `weights` (default: the shipped variable-delay model) at start `delay`."""
    return EchoApp(weights, delay, **kwargs)
