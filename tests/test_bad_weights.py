"""Every bad weights file is refused with one sentence naming the file and the fault."""

import pytest

from trainer import WeightsError, load_model
from trainer import header as header_mod
from weights_corpus import CORPUS, PAYLOAD_MARK, expected_fault


@pytest.mark.parametrize("name, build, fault", CORPUS, ids=[c[0] for c in CORPUS])
def test_loader_refuses(tmp_path, name, build, fault):
    path = build(tmp_path)
    with pytest.raises(WeightsError) as e:
        load_model(path)
    message = str(e.value)
    assert message == f"{path}: {expected_fault(path, fault)}"
    assert "\n" not in message
    assert not (tmp_path / PAYLOAD_MARK).exists(), "a pickle payload ran"


def test_unreadable_file(tmp_path, monkeypatch):
    # tests run as root in CI, where chmod 000 still reads: make open() refuse instead
    path = tmp_path / "locked.safetensors"
    path.write_bytes(b"x" * 16)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(header_mod, "open", denied, raising=False)
    with pytest.raises(WeightsError) as e:
        load_model(path)
    assert str(e.value) == f"{path}: cannot be read (Permission denied)"
