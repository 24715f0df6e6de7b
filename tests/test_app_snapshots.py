"""Snapshot tests: what echo-tui looks like (update with `pytest --snapshot-update`, and look at
each changed picture first).

Every picture uses a fake clock, so the status line's latency is a fixed number, and nothing in
the app blinks or ticks. The memory view is hidden (f2) in pictures of the shipped weights: its
colours are hidden-state values, which change whenever those weights are retrained. Pictures of
colour that must not change (memory, mistakes, confidence) use seeded untrained models; the
training panel replays checkpoints recorded from a seeded, tiny training on the CPU.

Pictures whose echo depends on the shipped weights (a retrained model that still echoes these
short strings perfectly and surely draws the same picture): text_model_hello_world,
slider_moved, fixed_model, skipped_keys_are_marked, smallest_terminal.
"""

from __future__ import annotations

from helpers import fake_clock, keys, ready, settle
from training_runs import ReplayRun, recorded_checkpoints

from echo_tui import create_app
from echo_tui.app.widgets import TrainPanel
from trainer import save_model, shipped_weights
from trainer.recipes import config

VARIABLE = shipped_weights("variable_delay")


def app(**kwargs):
    return create_app(clock=fake_clock(), **kwargs)


def typing(*names: str, memory_off: bool = True):
    async def run_before(pilot):
        await ready(pilot)
        await keys(pilot, *(["f2"] if memory_off else []), *names)

    return run_before


def test_start_screen(snap_compare):
    # the text model; the memory view shows the initial state (all zeros), whatever the weights
    assert snap_compare(app(), run_before=ready, terminal_size=(80, 24))


def test_text_model_hello_world_at_delay_3(snap_compare):
    # spaces drawn as ␣ in both tapes, blanks as ·
    assert snap_compare(app(delay=3), run_before=typing(*"Hello, World!"),
                        terminal_size=(80, 24))


def test_slider_moved(snap_compare):
    # delay 3 -> 5: the whole echo re-rendered, nothing re-run
    assert snap_compare(app(weights=VARIABLE, delay=3),
                        run_before=typing(*"abacaba", "right", "right"), terminal_size=(80, 24))


def test_fixed_model(snap_compare):
    assert snap_compare(app(weights=shipped_weights("fixed_delay")),
                        run_before=typing(*"abacaba"), terminal_size=(80, 24))


def test_skipped_keys_are_marked(snap_compare):
    # the letters model: marks over the key after skipped ones, the notice names the last
    assert snap_compare(app(weights=VARIABLE, delay=2),
                        run_before=typing(*"Hello, World! 42."), terminal_size=(80, 24))


def test_help_screen(snap_compare):
    assert snap_compare(app(), run_before=typing("f1", memory_off=False),
                        terminal_size=(100, 60))


def test_too_small_terminal(snap_compare):
    assert snap_compare(app(), run_before=ready, terminal_size=(50, 12))


def test_smallest_terminal(snap_compare):
    # 60x18: seventeen delays on the slider, every line, the key hints for help and quit
    assert snap_compare(app(delay=3), run_before=typing(*"Hi there", memory_off=False),
                        terminal_size=(60, 18))


def test_untrained_model_memory_mistakes_and_confidence(snap_compare, untrained_weights):
    # an untrained model gets most echoes wrong (highlighted) and is unsure of the rest (shaded);
    # the memory heat map shows its units under the keys
    assert snap_compare(app(weights=untrained_weights, delay=2),
                        run_before=typing(*"abacabadabacaba", memory_off=False),
                        terminal_size=(80, 30))


def half_trained(tmp_path):
    """A checkpoint partway through a seeded, tiny training (letters, delays 0-3): at delay 1,
    29 of 31 echoes of the typed string right, few of them sure; longer delays mostly wrong."""
    cfg = config("variable", hidden=24, delay=3, batch=32, max_steps=320, eval_every=40)
    path = tmp_path / "half.safetensors"
    save_model(recorded_checkpoints(cfg)[-1].model(vars(cfg)), path)
    return path


def test_every_delay_at_once_with_mistakes(snap_compare, tmp_path):
    # where the memory breaks: right and sure at delay 0, shaky at 1, mostly wrong beyond
    assert snap_compare(app(weights=half_trained(tmp_path), delay=1),
                        run_before=typing(*"abacabadabacabaeabacabadabacaba", "f4"),
                        terminal_size=(80, 20))


def test_long_stream_wraps_and_scrolls_back(snap_compare, untrained_weights):
    async def run_before(pilot):
        await ready(pilot)
        await keys(pilot, "f2")
        pilot.app.main.feed_text("thequickbrownfoxjumpsoverthelazydog" * 12)
        await settle(pilot)
        await keys(pilot, "up", "up")

    assert snap_compare(app(weights=untrained_weights, delay=8), run_before=run_before,
                        terminal_size=(80, 24))


FIXED_RUN = config("fixed", hidden=16, delay=2, max_steps=60, eval_every=10)
# letters, delays 0-6, a curriculum from 0-2: mid-run, some delays passed, some in training,
# the next two waiting and the rest later
CURRICULUM_RUN = config("variable", hidden=32, delay=6, batch=32, chunk=16, lr=1e-2,
                        curriculum=2, curriculum_step=2, curriculum_at=0.95, max_steps=400,
                        eval_every=25, heldout_chars=2000)


def _training(hold: int, cfg=FIXED_RUN):
    checkpoints = recorded_checkpoints(cfg)
    run = ReplayRun(checkpoints, hold=hold)

    async def run_before(pilot):
        await ready(pilot)
        await keys(pilot, "f2", *"the quick brown fox", "ctrl+t")
        panel = pilot.app.main.query_one(TrainPanel)
        panel.query_one("#train-kind").value = cfg.kind
        await pilot.pause()
        panel.query_one("#train-delay").value = str(cfg.delay)
        panel.query_one("#train-hidden").value = str(cfg.hidden)
        panel.start()
        while hold and panel.checkpoint is not checkpoints[hold - 1]:
            await pilot.pause(0.01)
        await settle(pilot)

    return run, run_before


def test_training_panel_before_its_first_check(snap_compare):
    # the form filled in, the recipe's measured time, the plots' empty axes
    run, run_before = _training(hold=0)
    assert snap_compare(app(weights=VARIABLE, start_run=lambda cfg: run),
                        run_before=run_before, terminal_size=(80, 30))


def test_training_panel_mid_run_with_the_learning_row(snap_compare):
    run, run_before = _training(hold=3)
    assert snap_compare(app(weights=VARIABLE, start_run=lambda cfg: run),
                        run_before=run_before, terminal_size=(80, 30))


def test_training_plots_mid_curriculum_at_80x24(snap_compare):
    # every line fits: the memory view gives way; bars per delay on the log-of-error axis
    run, run_before = _training(hold=12, cfg=CURRICULUM_RUN)
    assert snap_compare(app(weights=VARIABLE, start_run=lambda cfg: run),
                        run_before=run_before, terminal_size=(80, 24))


def test_training_panel_mid_run_at_60x18(snap_compare):
    # the smallest terminal: the plots give way, the progress line, the learning row, the
    # panel's border, the notice, status and footer all stay
    run, run_before = _training(hold=12, cfg=CURRICULUM_RUN)
    assert snap_compare(app(weights=VARIABLE, start_run=lambda cfg: run),
                        run_before=run_before, terminal_size=(60, 18))


def test_a_half_trained_model_shades_its_doubt(snap_compare, tmp_path):
    # right answers shaded by how unsure they are, wrong ones highlighted; the status line
    # gives the mean confidence
    assert snap_compare(app(weights=half_trained(tmp_path), delay=1),
                        run_before=typing(*"abacabadabacabaeabacabadabacaba"),
                        terminal_size=(80, 20))


def _weak_rnn(tmp_path):
    """A seeded, untrained plain RNN on letters, delays 0-8: its mistakes and doubt show."""
    import torch

    from trainer import Alphabet
    from trainer.model import build

    torch.manual_seed(1)
    path = tmp_path / "weak_rnn.safetensors"
    save_model(build("variable", 16, 8, Alphabet.named("letters"), cell="rnn"), path, seed=1)
    return path


async def _comparing(pilot):
    from helpers import until

    await until(lambda: pilot.app.main.compared is not None)
    await settle(pilot)


def test_compare_tapes(snap_compare, tmp_path):
    # the shipped letters GRU's echo, and under it (rnn) a weak RNN's, red and tinted
    def run_before(pilot):
        async def go():
            await _comparing(pilot)
            await keys(pilot, "f2", *"compare")
        return go()

    assert snap_compare(app(weights=VARIABLE, delay=2, compare=str(_weak_rnn(tmp_path))),
                        run_before=run_before, terminal_size=(80, 24))


def test_compare_every_delay(snap_compare, tmp_path):
    # every delay: the GRU's rows on the left, the weak RNN's on the right, delay for delay
    def run_before(pilot):
        async def go():
            await _comparing(pilot)
            await keys(pilot, "f2", "f4", *"memory")
        return go()

    assert snap_compare(app(weights=VARIABLE, delay=2, compare=str(_weak_rnn(tmp_path))),
                        run_before=run_before, terminal_size=(80, 24))


def _half_trained(tmp_path):
    """A letters model trained for a few seconds (seeded, CPU): delays 0-2 mostly right, the
    longer ones smeared and unsure."""
    import torch

    from trainer.config import TrainConfig
    from trainer.train import train

    torch.manual_seed(0)
    cfg = TrainConfig(kind="variable", hidden=32, delay=4, batch=64, chunk=16, lr=7e-3,
                      max_steps=120, eval_every=120, heldout_chars=500, target=1.0)
    model, _ = train(cfg)
    path = tmp_path / "half_trained.safetensors"
    save_model(model, path, seed=0)
    return path


def _looking(*names):
    def run_before(pilot):
        async def go():
            from helpers import until

            await ready(pilot)
            await keys(pilot, "f2", *names, "f5")
            await until(lambda: pilot.app.main.inspect.looked is not None)
            await pilot.pause()
        return go()
    return run_before


def test_look_inside_a_trained_answer(snap_compare):
    # delay 3: the newest answer came from the key 3 back, and every head is right
    assert snap_compare(app(weights=VARIABLE, delay=3), run_before=_looking(*"lookinside"),
                        terminal_size=(80, 24))


def test_look_inside_a_half_trained_answer(snap_compare, tmp_path):
    # the look-back smears over the recent keys; the answer is tinted: its top three say why
    assert snap_compare(app(weights=_half_trained(tmp_path), delay=4),
                        run_before=_looking(*"lookinside"), terminal_size=(80, 24))


def test_gates_of_a_gru(snap_compare, untrained_weights):
    # f6: the update gate of the seeded untrained GRU on the memory view's units
    assert snap_compare(app(weights=untrained_weights, delay=2),
                        run_before=typing(*"gatesofthememory", "f6", memory_off=False),
                        terminal_size=(80, 24))
