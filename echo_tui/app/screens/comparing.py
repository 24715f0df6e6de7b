"""Compare mode on the echo screen: a second model fed the same keys as the one in use.

The compared session gets every key, paste, undo and reset the session in use gets (the Feeder
feeds both), and the delay when it has one, so its echo can be drawn under the first one's,
column for column: it must read the same alphabet. It joins by catching up on what was typed,
fed to it alone before any key still waiting. Leaving compare mode drops it and nothing else.
"""

from __future__ import annotations

from ...core.describe import short_alphabet


class ComparingHost:
    """The echo screen's compare mode: `compared` (a reactive on the screen) is the second
    EchoSession, None when not comparing, and `compared_name` what the views call it."""

    compared_name = ""

    def compare(self, session, name: str) -> bool:
        """Feed `session` every key from now on, after what was typed; False (and the notice
        says why) when it cannot be compared with the model in use."""
        main = self.session
        if main is None:
            self.say("the model is still loading: compare once it is in")
            return False
        if session.alphabet != main.alphabet:
            self.say(f"cannot compare: {name} reads {short_alphabet(session.alphabet)}, the "
                     f"model in use {short_alphabet(main.alphabet)}; the echoes would not line "
                     "up")
            return False
        if main.delay in session.delays:
            session.delay = main.delay
        self.compared_name = name
        self.compared = self.feeder.compared = session
        self.feeder.refeed_first(main.typed, f"comparing with {name}", only="compared")
        self.redraw()
        self.kick()
        return True

    def stop_comparing(self, why: str = "") -> None:
        """Leave compare mode: the model in use and what was typed stay as they are."""
        if self.compared is None:
            self.say("not comparing: the palette's “Compare with…” starts")
            return
        name = self._drop_compared()
        self.say(why or f"stopped comparing with {name}; what you typed stays")
        self.redraw()

    def _drop_compared(self) -> str:
        name, self.compared_name = self.compared_name, ""
        self.compared = self.feeder.compared = None
        return name

    def keep_comparing(self, session) -> str:
        """A new model is in use: the compared one stays when it reads the same alphabet, and
        follows the delay. Else compare mode ends, and the clause returned says why."""
        compared = self.compared
        if compared is None:
            return ""
        if compared.alphabet != session.alphabet:
            name = self._drop_compared()
            return (f" (no longer compared with {name}: it reads "
                    f"{short_alphabet(compared.alphabet)})")
        self.delay_compared(session.delay)
        return ""

    def delay_compared(self, delay: int) -> None:
        """The compared model follows the delay where it has it (its views say where not)."""
        if self.compared is not None and delay in self.compared.delays:
            self.compared.delay = delay
