"""Training from the app: the parent side of a run (`run`: the child process followed, its
bounds), what a run says (`checkpoint`), the frames the child writes (`frames`), the child
itself (`child`; `python -m echo_tui.training CONFIG_JSON` runs it) and a served session's slot
(`slot`: one run at a time server-wide, within the server's limits).

Layer: may import core and trainer; never Textual or textual-serve.
"""
