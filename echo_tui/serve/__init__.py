"""`echo-tui serve`: the app for a room of browsers. The command (`command`), the server and its
door (`server`), one tab's bounds (`tab`), its forked process (`session`), the preloaded parent
and a session's start (`child`, `preload`) and the page (`page.html`).

Layer: may import compat, core, lessons, training, trainer, and app's face (create_app, run_app).
"""
