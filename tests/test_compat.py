"""The copies of upstream code in echo_tui/compat name the version they were copied from; an
upgrade of that upstream fails here until the copies are read against it again."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from echo_tui.compat import textual as textual_compat


def test_the_textual_copies_are_of_the_installed_textual():
    assert version("textual") == textual_compat.VERSION, (
        f"Textual is {version('textual')}, echo_tui/compat/textual.py copies "
        f"{textual_compat.VERSION}: read its copies against the new one, then change VERSION")


def test_the_textual_serve_copies_are_of_the_installed_textual_serve():
    pytest.importorskip("textual_serve", reason="echo-tui serve needs the [serve] extra")
    from echo_tui.compat import textual_serve as serve_compat

    assert version("textual-serve") == serve_compat.VERSION, (
        f"textual-serve is {version('textual-serve')}, echo_tui/compat/textual_serve.py copies "
        f"{serve_compat.VERSION}: read its copies against the new one, then change VERSION")


def test_the_pins_name_the_copied_versions():
    """pyproject pins each upstream to the version its copies are of."""
    import tomllib
    from pathlib import Path

    from echo_tui.compat import textual_serve as serve_compat

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    pins = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["serve"]
    assert f"textual=={textual_compat.VERSION}" in pins
    assert f"textual-serve=={serve_compat.VERSION}" in pins
