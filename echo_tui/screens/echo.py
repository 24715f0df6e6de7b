"""The echo screen: type, and watch the echo. It owns typing, the feed queue, undo, the delay,
scrolling and which views show; the app owns loading models, help and the palette.

Keys go to the session in the order they came: a key is fed at once when nothing waits, else
it joins the queue, which a pump feeds for about a frame between redraws. So a 100,000
character paste never freezes the screen, and keys typed during it act in order.
"""

from __future__ import annotations

import asyncio
import time

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState

from ..describe import count, duration, failure_sentence, key_name, short_alphabet
from ..feeding import FeedQueue, Tally
from ..widgets import (AllDelays, DelaySlider, KeysFooter, MemoryView, Tapes, TextLine,
                       TrainPanel)

MIN_WIDTH, MIN_HEIGHT = 60, 18
SHORT, TINY = 34, 24  # heights below which the training panel takes rows from the other views
PASTE_SLICE = 4096  # symbols fed per session call while a long paste goes through
FRAME_S = 1 / 30  # feed for about a frame, then let the screen draw and keys act

_DELAY = Binding.Group("delay")
BINDINGS = [  # the footer shows them in this order: help and quit still fit at 60 columns;
    # the keys it leaves out are in help (f1) and the palette (ctrl+p)
    Binding("f1", "app.help", "help", id="help", tooltip="open or close this help"),
    Binding("ctrl+q", "app.quit", "quit", id="quit-footer", tooltip="quit"),
    Binding("left", "delay(-1)", "delay", id="delay-down", group=_DELAY,
            tooltip="shorten the delay by one step"),
    Binding("right", "delay(1)", "delay", id="delay-up", group=_DELAY,
            tooltip="lengthen the delay by one step"),
    Binding("left_square_bracket", "delay(-1)", "delay -1", show=False, id="delay-down-bracket",
            key_display="[", tooltip="shorter delay, when the model does not read '['"),
    Binding("right_square_bracket", "delay(1)", "delay +1", show=False, id="delay-up-bracket",
            key_display="]", tooltip="longer delay, when the model does not read ']'"),
    Binding("backspace", "undo", "undo", id="undo", show=False,
            tooltip="undo the last step: the GRU's memory goes back exactly"),
    Binding("f2", "toggle_memory", "memory", id="toggle-memory",
            tooltip="show or hide the memory over time"),
    Binding("f3", "app.switch_model", "model", id="switch-model",
            tooltip="next model: text, letters variable, letters fixed, your own"),
    Binding("f4", "toggle_delays", "delays", id="toggle-delays",
            tooltip="every delay's echo at once, or the tapes"),
    Binding("ctrl+t", "toggle_train", "train", id="toggle-train",
            tooltip="train a model here and watch it learn; it takes over when done"),
    Binding("ctrl+r", "reset", "reset", id="reset", show=False,
            tooltip="forget what was typed and the GRU's memory"),
    Binding("escape", "escape", "", show=False, id="escape",
            tooltip="cancel the training; or leave the training form for the tapes"),
    Binding("ctrl+u", "use_trained", "", show=False, id="use-trained",
            tooltip="the model in training takes over now, as it is"),
    Binding("ctrl+s", "save_trained", "", show=False, id="save-trained",
            tooltip="save the model trained here (then: echo-tui --weights PATH)"),
    Binding("up", "scroll(1)", "scroll", show=False, id="scroll-up", tooltip="scroll back a row"),
    Binding("down", "scroll(-1)", "scroll", show=False, id="scroll-down",
            tooltip="scroll forward a row"),
    Binding("pageup", "scroll_page(1)", "page up", show=False, id="page-up",
            tooltip="scroll back a page"),
    Binding("pagedown", "scroll_page(-1)", "page down", show=False, id="page-down",
            tooltip="scroll forward a page"),
    Binding("home", "scroll_oldest", "oldest", show=False, id="scroll-home",
            tooltip="the oldest kept row"),
    Binding("end", "scroll_newest", "newest", show=False, id="scroll-end",
            tooltip="back to the newest row (typing does this too)"),
    Binding("ctrl+c", "quit_hint", "", show=False, id="quit-hint",
            tooltip="does not quit: ctrl+q does"),
]


KEY_ACTIONS = {binding.key: binding.action for binding in BINDINGS}


def typed_character(event: events.Key) -> str | None:
    """The character a key types, or None (a function key, an arrow). Enter types a newline,
    as in a paste, so typed and pasted text are the same characters."""
    ch = event.character
    if ch is None:  # a terminal sends Enter and Tab with their characters; not every sender does
        return {"enter": "\n", "tab": "\t"}.get(event.key)
    if len(ch) != 1:
        return None
    return "\n" if ch == "\r" else ch


class EchoScreen(Screen):
    """Slider, tapes (or every delay at once), memory, training, notice and status lines."""

    BINDINGS = BINDINGS
    AUTO_FOCUS = ""  # keys go to the tapes; the training form takes focus only when opened

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.queue = FeedQueue()
        self._pumping = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield DelaySlider(id="slider")
        tapes = Tapes(id="tapes")
        tapes.border_title = "typed, and its echo"
        yield tapes
        delays = AllDelays(id="delays", classes="-hidden")
        delays.border_title = "every delay at once (f4)"
        yield delays
        memory = MemoryView(id="memory")
        memory.border_title = "memory: hidden units × keys (−1 blue, +1 orange)"
        yield memory
        yield TrainPanel(start_run=self.app.start_run, id="train", classes="-hidden")
        yield TextLine(id="notice")
        yield TextLine(id="status")
        yield KeysFooter(compact=True)
        yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        self.tapes = self.query_one(Tapes)
        self.delays = self.query_one(AllDelays)
        self.memory = self.query_one(MemoryView)
        self.slider = self.query_one(DelaySlider)
        self.train = self.query_one(TrainPanel)
        self.notice = self.query_one("#notice", TextLine)
        self.status = self.query_one("#status", TextLine)
        self._fit(self.app.size.width, self.app.size.height)
        self.memory.set_class(not self.app.show_memory, "-hidden")
        self.refresh_views()
        self.call_after_refresh(self.app.start_loading)

    # -- size ---------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)
        self.call_after_refresh(self.refresh_views)  # the status line picks a form that fits

    def _fit(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        self.set_class(height < SHORT, "-short")
        self.set_class(height < TINY, "-tiny")
        if small:
            self.query_one("#too-small", Static).update(
                f"The terminal is too small: {width}×{height}.\n"
                f"echo-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}.")

    # -- keys ---------------------------------------------------------------------------
    async def on_key(self, event: events.Key) -> None:
        # Every key that touches the stream is handled here, in arrival order. Left to bubble to
        # the app, a binding's key would run after printable keys that arrived behind it (a burst
        # "ab", backspace, "c" would come out "ab" instead of "ac").
        if self.focused is not None:
            return  # the training form has the keys; its own bindings come first
        session = self.app.session
        ch = typed_character(event)
        if not (ch is not None and session is not None and session.alphabet.id_of(ch) is not None):
            action = KEY_ACTIONS.get(event.key)
            if action is not None:
                event.stop()
                event.prevent_default()
                self.say("")  # a notice is about the key before: it goes with the next one
                await self.run_action(action)
                return
        event.stop()
        event.prevent_default()
        if ch is not None:
            self.feed_text(ch)  # Enter, Tab and keys outside the alphabet too: marked, named
        else:
            self.say(f"{event.key} does nothing here: f1 lists the keys")

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.feed_text(event.text)

    def on_delay_slider_picked(self, message: DelaySlider.Picked) -> None:
        self.say("")
        self.set_delay(message.delay)

    # -- feeding ------------------------------------------------------------------------
    def feed_text(self, text: str) -> None:
        """Feed typed or pasted text: now if nothing waits before it, else after what waits."""
        self.tapes.follow()
        session = self.app.session
        if session is not None and not self.queue and len(text) <= PASTE_SLICE:
            tally = Tally(left=len(text))
            self._feed_now(text, tally)
        else:
            self.queue.push_text(text)
            self.kick()
        self.refresh_stream()

    def refeed_first(self, text: str, label: str) -> None:
        """Feed `text` before anything still queued (what was typed, to a new model); `label`
        starts the notice that says how it went."""
        self.queue.push_text_first(text, label)
        self.kick()

    @property
    def busy(self) -> bool:
        return bool(self.queue) or self._pumping

    def kick(self) -> None:
        if not self._pumping and self.app.session is not None and self.queue:
            self._pumping = True
            self.run_worker(self._pump(), group="feed", exclusive=False, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # the pump: what waited is dropped, and said
            self.queue.clear()
            self.say(failure_sentence(event.worker) + "; the keys still waiting were dropped")
            self.refresh_views()

    async def _pump(self) -> None:
        try:
            while self.queue and self.app.session is not None and self.is_attached:
                # a redraw costs tens of milliseconds: one per frame, not one per slice
                frame_ends = time.perf_counter() + FRAME_S
                while self.queue and time.perf_counter() < frame_ends:
                    op = self.queue.pop(PASTE_SLICE)
                    if op[0] == "feed":
                        self._feed_now(op[1], op[2])
                    else:
                        self._backspace_now()
                waiting = self.queue.waiting_chars()
                if waiting:
                    self.say(f"feeding the paste: {count(waiting, 'character')} to go")
                    # the engine goes on with the paste while the screen draws
                    self.app.session.feed_ahead(self.queue.next_text(PASTE_SLICE))
                self.refresh_stream()
                await asyncio.sleep(0)  # let the screen draw and other keys act
        finally:
            self._pumping = False

    def _feed_now(self, text: str, tally: Tally) -> None:
        session = self.app.session
        steps = session.feed(text)
        tally.add(len(text), steps, session.last_feed_skipped, session.last_skipped)
        if tally.left > 0:
            return  # the rest of this paste is still to come: report the whole of it then
        if tally.label:
            self.say(f"{tally.label}: re-fed {count(tally.steps, 'step')}" + (
                f"; skipped {count(tally.skipped, 'character')} outside its alphabet "
                f"({short_alphabet(session.alphabet)})"
                if tally.skipped else ""))
        elif tally.chars > 1:
            self.say(self.paste_summary(tally) if tally.skipped else "")
        elif tally.skipped:
            self.say(f"{key_name(tally.last_skipped)} skipped: not in the model's "
                     f"alphabet ({short_alphabet(session.alphabet)})")
        else:
            self.say("")

    def paste_summary(self, tally: Tally) -> str:
        return (f"fed {count(tally.steps, 'step')}; skipped {count(tally.skipped, 'character')} "
                f"outside the model's alphabet ({short_alphabet(self.app.session.alphabet)})")

    def _backspace_now(self) -> None:
        session = self.app.session
        if session.backspace():
            self.say("")
        elif session.steps:
            self.say(f"cannot undo further: only the last {session.undo_steps:,} steps "
                     "can be undone")

    def say(self, text: str) -> None:
        """Show `text` on the notice line ('' clears it)."""
        if self.is_mounted:
            self.notice.show(text)

    # -- actions ------------------------------------------------------------------------
    def action_undo(self) -> None:
        if self.app.session is None or self.queue:
            self.queue.push_backspace()
            self.kick()
            return
        self.tapes.follow()
        self._backspace_now()
        self.refresh_stream()

    def action_reset(self) -> None:
        self.queue.clear()  # a reset also drops what was still waiting to be fed
        if self.app.session is not None:
            self.app.session.reset()
        self.tapes.follow()
        self.say("reset: the stream and the GRU's memory are empty")
        self.refresh_views()

    def action_delay(self, step: int) -> None:
        session = self.app.session
        if session is None:
            return
        if session.kind == "fixed":
            self.say(f"the fixed-delay model echoes at delay {session.delay} only")
            return
        delays = session.delays
        k = delays.index(session.delay) + step
        self.set_delay(delays[max(0, min(len(delays) - 1, k))])

    def set_delay(self, delay: int) -> None:
        """Show the whole stream's echo at `delay` (no re-run: every head was kept)."""
        if self.app.session is None:
            return
        try:
            self.app.session.delay = delay
        except ValueError as e:
            self.say(str(e))
            return
        self.refresh_views()

    def action_toggle_memory(self) -> None:
        self.app.show_memory = not self.app.show_memory
        self.memory.set_class(not self.app.show_memory, "-hidden")

    def action_toggle_delays(self) -> None:
        every = self.tapes.display
        self.tapes.set_class(every, "-hidden")
        self.delays.set_class(not every, "-hidden")
        self.refresh_views()

    def action_toggle_train(self) -> None:
        opening = not self.train.display
        self.train.set_class(not opening, "-hidden")
        self.set_class(opening, "-training")
        if opening:
            self.train.opened()
        if opening and not self.train.running:
            # on "start", so Enter starts with the recipe as filled in (on a Select, Enter
            # would open its list); Tab and shift+Tab reach the form
            self.set_focus(self.train.query_one("#train-start"))  # now: the next key is for it
        else:
            self.set_focus(None)

    def action_escape(self) -> None:
        if self.train.running:
            self.train.cancel()
        elif self.focused is not None:
            self.set_focus(None)  # out of the form: typing goes to the tapes again

    def action_use_trained(self) -> None:
        self.train.use_now()

    def action_save_trained(self) -> None:
        self.train.save()

    def on_train_panel_use_model(self, message: TrainPanel.UseModel) -> None:
        self.app.use_trained(message.model, message.label)

    def action_scroll(self, rows: int) -> None:
        self.tapes.scroll_rows(rows)

    def action_scroll_page(self, pages: int) -> None:
        self.tapes.scroll_rows(pages * self.tapes.layout_rows()[1])

    def action_scroll_oldest(self) -> None:
        self.tapes.scroll_rows(None)

    def action_scroll_newest(self) -> None:
        self.tapes.follow()

    def action_quit_hint(self) -> None:
        self.say("ctrl+c does not quit: press ctrl+q to quit")

    # -- drawing ------------------------------------------------------------------------
    def model_changed(self) -> None:
        """A new model is in use: every view describes it from now on."""
        self.memory.model_changed()
        self.refresh_views()
        self.kick()

    def refresh_views(self) -> None:
        """Redraw what shows the session and its delay; Textual paints at most once a frame,
        however often this is called."""
        if self.is_mounted:
            self.slider.refresh()
            self.refresh_stream()

    def refresh_stream(self) -> None:
        """Redraw what a step changes (not the slider: a frame costs less without it)."""
        if not self.is_mounted:
            return
        for widget in (self.tapes, self.delays, self.memory):
            if widget.display:
                widget.refresh()
        self.delays.update_note()
        self.memory.update_note()
        self.status.show(self.status_text(self.status.size.width or self.app.size.width))

    def status_text(self, width: int = 200) -> str:
        """Model kind, alphabet, hidden size, delay, steps, accuracy, confidence, the last
        step's time: whole words, leaving out the least needed parts until the rest fits."""
        s = self.app.session
        if s is None:
            weights = self.app.weights
            return f"loading {weights.name if weights else 'the shipped text model'}…"
        acc = f"{100 * s.accuracy:.1f}%" if s.scored else "–"
        conf = f"{100 * s.mean_confidence:.0f}%" if s.steps else "–"
        lat = f"{duration(s.last_step_s)}/step" if s.last_step_s is not None else ""
        # (text, rank): the highest rank goes first when the line is too long
        parts = [(s.kind, 5), (short_alphabet(s.alphabet), 4), (f"hidden {s.model.hidden_size}", 6),
                 (f"delay {s.delay}", 0), (count(s.steps, "step"), 1), (f"acc {acc}", 2),
                 (f"conf {conf}", 3), (lat, 7)]
        parts = [p for p in parts if p[0]]
        room = width - 2  # the line's padding
        while len(parts) > 1 and len(" · ".join(t for t, _ in parts)) > room:
            parts.remove(max(parts, key=lambda p: p[1]))
        return " · ".join(t for t, _ in parts)
