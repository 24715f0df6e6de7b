"""Code copied from upstream, one module per upstream, each naming the version it was copied
from and what it changes: `textual` (Textual's drivers, its input parser and output thread)
and `textual_serve` (textual-serve's server and app service). Only these modules touch an
upstream's private names; a test fails when a pinned version changes, so each copy is read
again against the new one.

Layer: imports only its upstream packages, nothing of echo-gru.
"""
