"""`echo-train sweep` without Ray: the draws, the grid and its matched sizes, the ledger that
makes a sweep resumable, one trial (a diverged one counted, not raised), the trainability and
capacity tables against hand-computed values, and the one-line refusal without the extra."""

from __future__ import annotations

import importlib.util
import json

import pytest

from trainer.cli import main
from trainer.sweep import ledger, space, tables
from trainer.sweep.recipes import command_for, summary
from trainer.sweep.trial import run_spec, trained
from trainer.threads import cpu_name


def test_draws_are_paired_across_cells_and_sizes_and_stay_in_their_ranges():
    specs = space.plan(["gru", "rnn"], [32, 64], [4, 8], draws=5, steps=100, seed=3)
    assert len(specs) == 2 * 2 * 2 * 5 and len({s["id"] for s in specs}) == len(specs)
    for k in range(5):
        same = {json.dumps(s["settings"], sort_keys=True) for s in specs if s["draw"] == k}
        assert len(same) == 1  # draw k: the same settings at every point, for every cell
    lrs = sorted(space.draw(3, k, 5)["lr"] for k in range(5))
    lo, hi = space.RANGES["lr"]["log_uniform"]
    # a Latin hypercube: one draw in each fifth of the log range
    import math
    fifths = [int(5 * (math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo)))
              for x in lrs]
    assert fifths == [0, 1, 2, 3, 4]
    for s in specs:
        for name, rule in space.RANGES.items():
            if "choice" in rule:
                assert s["settings"][name] in rule["choice"]
    assert space.plan(["gru"], [32], [4], 5, 100, seed=3) == space.plan(["gru"], [32], [4], 5,
                                                                         100, seed=3)


def test_matched_parameters_give_each_cell_its_own_hidden_size():
    # recurrent parameters g(2H² + 2H): a GRU of 32 has 3 × 2,112 = 6,336
    assert space.recurrent_parameters("gru", 32) == 6336
    assert (space.hidden_for("gru", 6336), space.hidden_for("lstm", 6336),
            space.hidden_for("rnn", 6336)) == (32, 28, 56)  # 6,496 and 6,384 the nearest
    assert space.recurrent_parameters("lstm", 28) == 6496
    assert space.recurrent_parameters("rnn", 56) == 6384
    # embedding 27 × 8, recurrent 3 × (128 + 16), heads 3 × 27 × 9
    assert space.parameters("gru", 8, 2) == 216 + 432 + 729


def _row(cell, size, max_delay, held, k, hidden=32, params=6336, diverged="", failed=""):
    return {"id": f"{cell}-{size}-{max_delay}-{k}", "cell": cell, "size": size,
            "hidden": hidden, "recurrent_parameters": params, "max_delay": max_delay,
            "held": held, "steps": 100, "draw": k, "diverged": diverged, "failed": failed}


ROWS = [  # gru at size 32: D=8 two of four held (one diverged), D=4 all six; rnn: none
    _row("gru", 32, 8, 8, 0), _row("gru", 32, 8, 3, 1), _row("gru", 32, 8, 8, 2),
    _row("gru", 32, 8, -1, 3, diverged="training diverged at step 50"),
    *(_row("gru", 32, 4, 4, k) for k in range(6)),
    *(_row("rnn", 32, 4, h, k, hidden=56, params=6384) for k, h in enumerate([3, 2, 1, 0, -1,
                                                                                -1])),
]


def test_trainability_counts_and_wilson_intervals_against_hand_computed_values():
    t = {(e["cell"], e["max_delay"]): e for e in tables.trainability(ROWS)}
    g8 = t[("gru", 8)]
    assert (g8["draws"], g8["trained"], g8["diverged"], g8["share"]) == (4, 2, 1, 0.5)
    # Wilson, 2 of 4, z = 1.96: centre 0.5, half-width 1.96 √(1/16 + 3.8415/64) / 1.9604
    assert (g8["low"], g8["high"]) == pytest.approx((0.1500, 0.8500), abs=1e-4)
    assert g8["median_held"] == 5.5  # of 8, 3, 8, -1
    g4 = t[("gru", 4)]
    # 6 of 6: the lower end is n / (n + z²) = 6 / 9.8415
    assert (g4["trained"], g4["low"], g4["high"]) == (6, pytest.approx(0.6097, abs=1e-4), 1.0)
    r4 = t[("rnn", 4)]
    # 0 of 6: the upper end is z² / (n + z²) = 3.8415 / 9.8415
    assert (r4["trained"], r4["low"], r4["high"]) == (0, 0.0, pytest.approx(0.3903, abs=1e-4))
    assert r4["median_held"] == 0.5


def test_capacity_is_the_best_draw_per_unit_and_per_parameter():
    c = {e["cell"]: e for e in tables.capacity(ROWS)}
    assert (c["gru"]["held"], c["gru"]["symbols"]) == (8, 9)
    assert c["gru"]["symbols_per_unit"] == 9 / 32
    # 9 symbols of log2 27 = 4.7549 bits: 42.79 bits over 32 units and over 6,336 parameters
    assert c["gru"]["bits_per_unit"] == pytest.approx(1.3373, abs=1e-4)
    assert c["gru"]["bits_per_parameter"] == pytest.approx(0.006754, abs=1e-6)
    assert (c["rnn"]["held"], c["rnn"]["symbols_per_unit"]) == (3, 4 / 56)
    assert tables.so_far(ROWS, ["gru", "rnn"]) == "gru 0–8/0–4 · rnn 0–3/0–0.5"


def test_a_diverged_trial_is_a_row_that_holds_nothing(tmp_path):
    spec = space.plan(["rnn"], [16], [2], 1, steps=40, ranges=dict(
        space.RANGES, lr={"log_uniform": [10, 10]}, clip={"choice": [None]}))[0]
    row = run_spec(spec, check_chars=200)
    assert row["diverged"].startswith("training diverged at step 40")
    assert (row["held"], row["accuracy"], row["failed"], trained(row)) == (-1, [], "", False)
    assert row["settings"]["lr"] == 10 and row["budget_steps"] == 40


def test_a_trial_row_has_every_delay_and_the_settings(tmp_path):
    spec = space.plan(["gru"], [8], [3], 1, steps=30, seed=1)[0]
    row = run_spec(spec, check_chars=200)
    assert (row["cell"], row["hidden"], row["max_delay"], row["steps"]) == ("gru", 8, 3, 30)
    assert len(row["accuracy"]) == 4 and row["settings"] == spec["settings"]
    assert row["threads"] >= 1 and row["seed"] == 1


def test_the_ledger_keeps_finished_rows_and_leaves_the_rest(tmp_path):
    folder = tmp_path / "sw"
    specs = space.plan(["gru", "rnn"], [8], [2], 2, steps=10)
    ledger.create(folder, {"settings": {}, "specs": specs})
    with pytest.raises(ledger.LedgerError, match="is not empty .--resume continues it."):
        ledger.create(folder, {"specs": []})
    ledger.append_row(folder, {"id": specs[1]["id"], "held": 0})
    with open(folder / "rows.jsonl", "a") as f:
        f.write('{"id": "cut sh')  # a line cut short by a kill is no row
    rows = ledger.read_rows(folder)
    assert [r["id"] for r in rows] == [specs[1]["id"]]
    assert [s["id"] for s in ledger.left(ledger.read_plan(folder), rows)] == [
        s["id"] for s in specs if s["id"] != specs[1]["id"]]
    assert (ledger.start_session(folder, "a"), ledger.start_session(folder, "b")) == (1, 2)
    with pytest.raises(ledger.LedgerError, match="holds no sweep"):
        ledger.read_plan(tmp_path)


def test_a_recipe_over_seeds_gives_median_and_worst():
    assert command_for("text", 3) == ["variable", "--recipe", "text", "--target", "0.9999",
                                      "--seed", "3", "--device", "cpu"]
    rows = [{"steps": s, "seconds": t, "train_seconds": t - 2, "reached": True, "failed": ""}
            for s, t in ((550, 5.0), (800, 7.0), (550, 5.5))]
    rows.append({"steps": None, "seconds": 1.0, "failed": "boom", "reached": False})
    s = summary(rows)
    assert (s["runs"], s["reached"], s["failed"]) == (4, 3, 1)
    assert s["steps"] == {"median": 550, "worst": 800}
    assert s["seconds"] == {"median": 5.5, "worst": 7.0}


def test_a_recipe_row_names_the_cpu_its_seconds_are_of():
    # the same VM has moved between CPUs whose steps cost twice apart: a row says which
    info = ("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t:  AMD  EPYC 9B14\n\n"
            "processor\t: 1\nmodel name\t: AMD EPYC 9B14\n")
    assert cpu_name(info) == "AMD EPYC 9B14"
    assert cpu_name("processor\t: 0\nmodel name\t:\n") not in ("", "AMD EPYC 9B14")
    assert cpu_name() == cpu_name(open("/proc/cpuinfo").read())


def test_without_the_extra_sweep_says_how_to_install_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    assert main(["sweep", "--cells", "gru", "--hidden", "8", "--max-delay", "2"]) == 2
    err = capsys.readouterr().err
    assert err == ("echo-train: error: sweep runs its trials on Ray Tune, which is not "
                   "installed: pip install '.[sweep]' in the echo-gru checkout\n")


@pytest.mark.parametrize("argv, said", [
    (["--cells", "gru,tree"], "--cells: 'tree' is not a cell; use gru, lstm, rnn"),
    (["--max-delay", "8,65"], "--max-delay: '65' is not a max delay from 1 to 64"),
    (["--draws", "0"], "--draws 0 must be at least 1"),
    (["--seeds", "4-1", "--recipe", "fixed"], "--seeds '4-1': give a range as 0-4 or seeds as "
                                              "0,3,7"),
    (["--recipe", "nope"], "--recipe 'nope' is not a recipe; use fixed, variable, lesson, "
                           "text, long"),
    (["--resume", "x", "--draws", "3"], "--resume takes the sweep's settings from x/plan.json; "
                                        "leave out --draws"),
])
def test_bad_options_are_refused_in_one_line_before_ray_starts(argv, said, capsys):
    assert main(["sweep", *argv]) == 2
    assert capsys.readouterr().err == f"echo-train: error: {said}\n"


def test_the_comparison_regime_is_where_the_cells_differ_most_and_its_draw_is_the_median():
    rows = [dict(r, accuracy=[0.5 + r["held"] / 100]) for r in ROWS]
    gap = tables.widest_gap(rows)
    # at D=4 gru held 6 of 6 and rnn 0 of 6 (at D=8 there is no rnn to differ from)
    assert (gap["size"], gap["max_delay"], gap["share"]) == (32, 4, {"gru": 1.0, "rnn": 0.0})
    # rnn's draws held 3, 2, 1, 0, -1, -1: ranked, the lower median is the 3rd (held 0)
    assert tables.typical(rows, "rnn", 32, 4)["id"] == "rnn-32-4-3"


def test_a_model_is_trained_as_a_sweeps_trial_was(tmp_path, capsys):
    from trainer.sweep.report import as_json
    from trainer.weights import read_metadata

    spec = space.plan(["rnn"], [8], [2], 1, steps=5, seed=2)[0]
    sweep = tmp_path / "sweep.json"
    row = dict(run_spec(spec, check_chars=100), session=1)
    sweep.write_text(json.dumps(as_json({"settings": {}, "specs": [spec]}, [row], "test")))
    out = tmp_path / "m.safetensors"
    assert main(["variable", "--trial", f"{sweep}:{spec['id']}", "--device", "cpu", "--out",
                 str(out)]) == 0
    meta = read_metadata(out)
    assert meta["recipe"] == f"sweep trial {spec['id']}" and meta["train_steps"] == "5"
    cfg = json.loads(meta["config"])
    assert (cfg["cell"], cfg["hidden"], cfg["delay"], cfg["seed"], cfg["lr"], cfg["clip"]) == (
        "rnn", 8, 2, 2, spec["settings"]["lr"], spec["settings"]["clip"])
    assert main(["variable", "--trial", f"{sweep}:nope", "--out", str(out)]) == 2
    assert main(["variable", "--trial", f"{sweep}:{spec['id']}", "--hidden", "9", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-2:] == [f"echo-train: error: --trial {sweep}: has no trial 'nope'",
                   "echo-train: error: --trial sets every training setting; leave out --hidden"]
