"""The streaming core: the stream (`session`, with `rows` and `typed`), the engine that runs a
model a key or a paste at a time (`engine`, `kernels`), the feeder that keeps keys in order
(`feeding`), looking inside an answer (`looking`), the model choices and how one becomes a
session (`models`), the arguments' checks (`checks`), how things are named (`describe`), and
what a session served to a browser does differently (`served`). Everything the app shows is
computed here; nothing here draws.

Layer: may import trainer; never Textual or textual-serve.
"""
