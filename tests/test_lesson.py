"""The lesson recipe: the training panel's first offer for the text alphabet."""

import torch

from trainer.recipes import config
from trainer.train import train


def test_the_lesson_recipe_reaches_its_target_at_a_reduced_size():
    # the recipe as the panel offers it, smaller (delays 0-2, hidden 96, 99%): seconds on a CPU
    torch.set_num_threads(1)
    cfg = config("lesson", delay=2, hidden=96, target=0.99, max_seconds=60, eval_every=50,
                 heldout_chars=2000, confirm_chars=5000, heldout_stream_steps=1000)
    model, p = train(cfg)
    assert p.reached and p.heldout >= 0.99 and model.alphabet.name == "text"
    assert p.step < 1000  # well inside the budget, not at its edge
