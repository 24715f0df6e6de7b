import pytest
import torch

from trainer import (Alphabet, EchoDataset, N, StreamChunks, VariableDelayEchoDataset,
                     idx_to_onehot)


def test_onehot_matches_seed_example():
    x = idx_to_onehot(torch.tensor([1, 2]))
    assert x.shape == (2, N + 1)
    assert x.argmax(dim=1).tolist() == [1, 2]
    assert x.sum().item() == 2


def test_echo_dataset_yields_seed_semantics():
    ds = EchoDataset(delay=3, seq_length=9, size=5, seed=1)
    items = list(ds)
    assert len(items) == len(ds) == 5
    for seq, result in items:
        assert seq.shape == result.shape == (9,)
        assert seq.dtype == result.dtype == torch.int64
        assert seq.min() >= 1 and seq.max() <= N
        assert result[:3].tolist() == [0, 0, 0]
        assert result[3:].tolist() == seq[:-3].tolist()


def test_echo_dataset_is_repeatable_with_a_seed():
    a = [s.tolist() for s, _ in EchoDataset(seed=5, size=3)]
    b = [s.tolist() for s, _ in EchoDataset(seed=5, size=3)]
    assert a == b


@pytest.mark.parametrize("delay", [0, 15, 40])
def test_echo_dataset_edge_delays_keep_length(delay):
    seq, result = next(iter(EchoDataset(delay=delay, seq_length=15, size=1, seed=0)))
    assert result.shape == (15,)
    assert result.tolist() == ([0] * min(delay, 15) + seq.tolist())[:15]


def test_variable_dataset_yields_seed_semantics():
    ds = VariableDelayEchoDataset(max_delay=8, seq_length=20, size=200, seed=2)
    delays = set()
    for seq, delay, result in ds:
        delays.add(delay)
        assert 0 <= delay <= 8
        assert result.tolist() == [0] * delay + seq[: 20 - delay].tolist()
    assert delays == set(range(9))


def test_negative_delay_refused():
    with pytest.raises(ValueError, match="delay must be >= 0, got -1"):
        EchoDataset(delay=-1)


def test_stream_chunks_targets_follow_the_unbroken_stream():
    data = StreamChunks(batch=6, chunk=5, max_delay=4, reset_prob=0.3, seed=3)
    streams = [[] for _ in range(6)]  # the symbols of each row since its last reset
    for _ in range(12):
        x, targets, reset = next(data)
        assert targets.shape == (6, 5, 5)
        for b in range(6):
            if reset[b]:
                streams[b] = []
            for t in range(5):
                streams[b].append(int(x[b, t]))
                for d in range(5):
                    i = len(streams[b]) - 1 - d
                    expected = streams[b][i] if i >= 0 else 0
                    assert int(targets[b, t, d]) == expected, (b, t, d)


def test_stream_chunks_first_chunk_resets_every_row():
    _, targets, reset = next(StreamChunks(batch=4, chunk=3, max_delay=2, seed=0))
    assert reset.all()
    assert (targets[:, 0, 1:] == 0).all() and (targets[:, 1, 2] == 0).all()


def test_alphabet_folds_case_and_decodes_blank():
    a = Alphabet.named("letters")
    assert a.encode("aZ") == [1, 26]
    assert a.id_of("Q") == 17 and a.id_of("7") is None and a.id_of("é") is None
    assert a.decode([0, 1, 26, 0]) == " az "
    assert Alphabet.named("alnum").encode("z09") == [26, 27, 36]


@pytest.mark.parametrize("symbols, case, problem", [
    ("", "fold", "is empty"), ("abca", "fold", "has duplicate symbols"),
    ("ab·", "exact", "contains the blank '·'"),
    ("a\tb", "exact", "must hold printable symbols only"),
    ("aB", "fold", "has upper-case symbols, which its case rule 'fold' reads as lower case"),
    ("ab", "upper", "has the case rule 'upper', expected 'fold' or 'exact'")])
def test_bad_alphabets_refused(symbols, case, problem):
    with pytest.raises(ValueError) as e:
        Alphabet(symbols, case)
    assert str(e.value) == f"alphabet {symbols!r} {problem}"


def test_text_alphabet_round_trips_case_space_and_punctuation():
    text = Alphabet.named("text")
    assert len(text) == 95 and text.symbols[0] == " " and text.symbols[-1] == "~"
    assert text.symbols == "".join(sorted(text.symbols))  # code order, ids 1..95
    sample = "Hello, World! 42 ~{`|}~ \"quoted\" 'x' A-a"
    ids = text.encode(sample)
    assert ids[:2] == [ord("H") - 31, ord("e") - 31]
    assert text.decode(ids) == sample  # case, space and punctuation kept
    assert text.id_of("A") != text.id_of("a")  # case-sensitive
    assert text.id_of("é") is None and text.id_of("\n") is None
    assert text.blank == "·" and text.decode([0, ord(" ") - 31, 0]) == "· ·"


def test_letters_keep_folding_and_the_seeds_blank():
    letters = Alphabet.named("letters")
    assert letters.case == "fold" and letters.blank == " "
    assert letters.encode("AbC") == [1, 2, 3] and letters.id_of(" ") is None
    assert letters.decode([0, 1, 0]) == " a "
    assert Alphabet("ab ", "fold").blank == "·"  # any alphabet holding the space


def test_unknown_alphabet_name():
    with pytest.raises(ValueError, match="unknown alphabet 'greek'; choose one of: letters, alnum, text"):
        Alphabet.named("greek")
