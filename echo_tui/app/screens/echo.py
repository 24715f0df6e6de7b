"""The echo screen: type, and watch the echo. It owns the session in use, typing (through a
Feeder), undo, the delay, scrolling and which views show; the app owns loading models, help and
the palette.

The views follow the screen (widgets/base.py): they watch its reactive `session` (and the slider
its `delay`) and are told of each `revision` (bumped when the stream, the delay or the model
changes); each redraws itself from them.

Keys go to the session in the order they came: a key is fed at once when nothing waits, else
it joins the queue, which a pump feeds for about a frame between redraws. So a 100,000
character paste never freezes the screen, and keys typed during it act in order.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Header, Static
from textual.worker import Worker, WorkerState

from ...core.describe import failure_sentence
from ...core.feeding import Feeder
from ..train_control import RELAY, TrainingControl
from ..widgets import (AllDelays, CompareStatus, DelaySlider, InspectView, KeysFooter,
                       MemoryView, NoticeLine, StatusLine, Tapes, TrainPanel)
from ..widgets.inspect import TITLE as INSPECT_TITLE
from ..widgets.delays import TITLE as DELAYS_TITLE
from ..widgets.memory import TITLE as MEMORY_TITLE
from .comparing import ComparingHost
from .lessons import LESSON_BINDINGS, LessonHost
from ..widgets.lesson_panel import LessonPanel
from .fitting import MIN_HEIGHT, MIN_WIDTH, FittingHost  # noqa: F401 - the app's size
from .looking import LookingHost
from .train_host import TrainingHost

FRAME_S = 1 / 30  # feed for about a frame, then let the screen draw and keys act

_DELAY = Binding.Group("delay")
BINDINGS = [  # the footer shows them in this order: help and quit still fit at 60 columns;
    # the keys it leaves out are in help (f1) and the palette (ctrl+p)
    Binding("f1", "app.help", "help", id="help", tooltip="open or close this help"),
    Binding("ctrl+q", "app.quit", "quit", id="quit-footer", tooltip="quit"),
    Binding("f10", "app.quit", "quit", show=False, id="quit-f10", tooltip="quit"),
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
    Binding("f8", "toggle_train", "train", show=False, id="toggle-train-f8",
            tooltip="train a model here and watch it learn; it takes over when done"),
    Binding("f5", "toggle_inspect", "inspect", id="toggle-inspect",
            tooltip="look inside an answer: which past key moved it, its top answers"),
    Binding("f6", "cycle_gates", "gates", id="cycle-gates",
            tooltip="the memory view shows the state, then each gate (update, reset)"),
    Binding("shift+left", "pick(-1)", "pick", show=False, id="pick-earlier",
            tooltip="look inside the answer one step earlier"),
    Binding("shift+right", "pick(1)", "pick", show=False, id="pick-later",
            tooltip="look inside the answer one step later"),
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
    *LESSON_BINDINGS,
]


KEY_ACTIONS = {binding.key: binding.action for binding in BINDINGS}

# In a browser, keys the browser keeps for itself never reach the page: Chromium and Firefox
# open a tab on ctrl+t (and a window on ctrl+n, close the tab on ctrl+w), and Firefox quits on
# ctrl+q. A served session's footer and help show, in their place, keys every browser gives to
# the page (checked in Chromium with real key events: tests/test_serve_browser.py). The
# terminal's keys all still work where they arrive.
BROWSER_KEPT = frozenset({"ctrl+t", "ctrl+q"})
BROWSER_KEYS = frozenset({"f8", "f10"})  # train, quit: shown in a browser instead


def browser_bindings() -> list[Binding]:
    """BINDINGS as a served session shows them."""
    return [replace(b, show=False) if b.key in BROWSER_KEPT
            else replace(b, show=True) if b.key in BROWSER_KEYS else b for b in BINDINGS]


def help_bindings(browser: bool) -> list[Binding]:
    """The bindings help lists: in a browser, not the keys it keeps, nor saving (off there)."""
    if not browser:
        return BINDINGS
    return [replace(b, tooltip="does not end this session: f10 does") if b.key == "ctrl+c"
            else b for b in BINDINGS if b.key not in BROWSER_KEPT | {"ctrl+s"}]


def typed_character(event: events.Key) -> str | None:
    """The character a key types, or None (a function key, an arrow). Enter types a newline,
    as in a paste, so typed and pasted text are the same characters."""
    ch = event.character
    if ch is None:  # a terminal sends Enter and Tab with their characters; not every sender does
        return {"enter": "\n", "tab": "\t"}.get(event.key)
    if len(ch) != 1:
        return None
    return "\n" if ch == "\r" else ch


class EchoScreen(TrainingHost, ComparingHost, LookingHost, FittingHost, LessonHost, Screen):
    """Slider, tapes (or every delay at once), memory, training, notice and status lines (the
    training panel: `TrainingHost`; compare mode: `ComparingHost`; looking inside an answer:
    `LookingHost`; who gets which rows: `FittingHost`; a lesson: `LessonHost`)."""

    BINDINGS = BINDINGS
    AUTO_FOCUS = ""  # keys go to the tapes; the training form takes focus only when opened

    session = var(None, always_update=True)  # the EchoSession in use; None while the first loads
    compared = var(None, always_update=True)  # the second EchoSession in compare mode, or None
    delay = var(None)
    show_memory = var(True, init=False)
    every_delay = var(False, init=False)  # every delay's rows instead of the tapes

    def __init__(self, loading: str = "the model", show_memory: bool = True, start_run=None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.feeder = Feeder()
        self.chosen_delay: int | None = None  # the delay the user chose: kept across models
        self.revision = 0  # bumped when the stream, the delay or the model changes
        self._followers: list = []  # the views that redraw at each revision
        self._pumping = False
        self._loading, self._start_run = loading, start_run
        self.set_reactive(EchoScreen.show_memory, show_memory)

    def compose(self) -> ComposeResult:
        # the size's classes before any view is styled: set at mount, each restyled all of them
        self._fit_classes(*self.app.size)
        yield Header()
        yield DelaySlider(id="slider")
        yield LessonPanel(id="lesson", classes="-hidden")  # a lesson's step (screens/lessons.py)
        tapes = Tapes(id="tapes")
        tapes.border_title = "typed, and its echo"
        yield tapes
        delays = AllDelays(id="delays", classes="-hidden")
        delays.border_title = DELAYS_TITLE
        yield delays
        inspect = InspectView(id="inspect", classes="-hidden")
        inspect.border_title = INSPECT_TITLE
        yield inspect
        memory = MemoryView(id="memory", classes="" if self.show_memory else "-hidden")
        memory.border_title = MEMORY_TITLE
        yield memory
        train = TrainPanel(id="train", classes="-hidden")
        self.training = TrainingControl(self, train, self._start_run)  # runs what it asks for
        yield train
        yield NoticeLine(id="notice")
        yield StatusLine(self._loading, id="status")
        yield CompareStatus(id="compare-status")
        yield KeysFooter(compact=True)
        yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        self.tapes = self.query_one(Tapes)
        self.delays = self.query_one(AllDelays)
        self.memory = self.query_one(MemoryView)
        self.inspect = self.query_one(InspectView)
        self.slider = self.query_one(DelaySlider)
        self.train = self.query_one(TrainPanel)
        self.notice = self.query_one("#notice", NoticeLine)
        self._fit(self.app.size.width, self.app.size.height)
        self.call_after_refresh(self.app.start_loading)

    # -- the session ----------------------------------------------------------------------
    def use_session(self, session, refeed: str = "", said: str = "") -> None:
        """`session` is shown from now on. `refeed`: what was typed, fed to it before any key
        still waiting, then `said` starts the notice on how that went; else `said` is the
        notice."""
        self.session = self.feeder.session = session
        self.delay = session.delay
        if self.chosen_delay is None:  # the first model's: what the user has, chosen or not
            self.chosen_delay = session.delay
        self.refit()  # the memory view's rows follow the model's units
        said += self.keep_comparing(session)
        if refeed:
            self.feeder.refeed_first(refeed, said)
        elif said:
            self.say(said)
        self.redraw()
        self.kick()

    def follow(self, view) -> None:  # `view`, a widgets.base.SessionView, hears each revision
        self._followers.append(view)

    def redraw(self) -> None:
        """Every view redraws from the session (Textual paints at most once a frame)."""
        self.revision += 1
        for view in self._followers:
            view.revised()

    # -- keys ---------------------------------------------------------------------------
    async def on_key(self, event: events.Key) -> None:
        # Every key that touches the stream is handled here, in arrival order. Left to bubble to
        # the app, a binding's key would run after printable keys that arrived behind it (a burst
        # "ab", backspace, "c" would come out "ab" instead of "ac").
        if self.focused is not None or self.tab_into_form(event):
            return  # the training form has the keys; its own bindings come first
        session = self.session
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
        self.lesson_saw("keys", len(text))
        said = self.feeder.type(text)
        if said is None:
            self.kick()
        else:
            self.say(said)
        self.redraw()

    @property
    def busy(self) -> bool:
        """Keys or a paste wait to be fed."""
        return self.feeder.waiting or self._pumping

    def kick(self) -> None:
        if not self._pumping and self.session is not None and self.feeder.waiting:
            self._pumping = True
            self.run_worker(self._pump(), group="feed", exclusive=False, exit_on_error=False)

    # a failed worker of this screen, by its group: the method that says so (the hosts mixed in
    # bring theirs). One table, one handler: none relies on Textual calling each mixin's in turn
    WORKER_FAILED = {"feed": "feed_failed", "export": "export_failed", RELAY: "relay_failed"}

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group in self.WORKER_FAILED:
            getattr(self, self.WORKER_FAILED[event.worker.group])(event.worker)

    def feed_failed(self, worker: Worker) -> None:
        """The pump failed: what waited is dropped, and said."""
        self.feeder.clear()
        self.say(failure_sentence(worker) + "; the keys still waiting were dropped")
        self.redraw()

    async def _pump(self) -> None:
        try:
            while self.feeder.waiting and self.session is not None and self.is_attached:
                # a redraw costs tens of milliseconds: one per frame, not one per slice
                said = self.feeder.run_for(FRAME_S)
                if said is not None:
                    self.say(said)
                self.redraw()
                await asyncio.sleep(0)  # let the screen draw and other keys act
        finally:
            self._pumping = False

    def say(self, text: str) -> None:
        """Show `text` on the notice line ('' clears it): on two lines when it needs them and
        the screen has a row to spare (`FittingHost`); help (f1) lists the recent ones."""
        if self.is_mounted:
            self.show_notice(text)

    # -- actions ------------------------------------------------------------------------
    def action_undo(self) -> None:
        self.lesson_saw("undos")
        said = self.feeder.backspace()
        if said is None:
            self.kick()  # it waits behind what is queued
            return
        self.tapes.follow()
        self.say(said)
        self.redraw()

    def action_reset(self) -> None:
        self.lesson_saw("resets")
        self.feeder.reset()  # also drops what was still waiting to be fed
        self.tapes.follow()
        whose = "both models'" if self.compared is not None else "the GRU's"
        self.say(f"reset: the stream and {whose} memory are empty")
        self.redraw()

    def action_delay(self, step: int) -> None:
        session = self.session
        if session is None:
            return
        if session.kind == "fixed":
            self.say(f"the fixed-delay model echoes at delay {session.delay} only")
            return
        delays, k = session.delays, session.delays.index(session.delay) + step
        self.set_delay(delays[max(0, min(len(delays) - 1, k))])

    def set_delay(self, delay: int) -> None:
        """Show the whole stream's echo at `delay` (no re-run: every head was kept)."""
        if self.session is None:
            return
        moved = delay != self.session.delay  # → at the longest delay moves nothing: not counted
        try:
            self.session.delay = delay
        except ValueError as e:
            self.say(str(e))
            return
        self.delay = self.chosen_delay = delay
        self.lesson_saw("delay_changes", int(moved))
        self.delay_compared(delay)
        self.redraw()

    def action_toggle_memory(self) -> None:
        self.show_memory = not self.show_memory

    def watch_show_memory(self, show: bool) -> None:
        self.memory.set_class(not show, "-hidden")
        self.refit()

    def action_toggle_delays(self) -> None:
        self.every_delay = not self.every_delay

    def watch_every_delay(self, every: bool) -> None:
        self.tapes.set_class(every, "-hidden")
        self.delays.set_class(not every, "-hidden")
        self.refit()
        self.redraw()

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


class ServedEchoScreen(EchoScreen):
    """The echo screen in a browser tab: its footer shows the keys a browser gives the page
    (Textual merges a subclass's bindings over its parent's, key by key, in the parent's order)."""

    BINDINGS = browser_bindings()

    def action_quit_hint(self) -> None:
        self.say("ctrl+c does not end this session: f10 does")
