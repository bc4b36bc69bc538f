"""The judge's side of the wire: frames and outputs are untrusted."""
import io
import json

import pytest
import torch
from safetensors.torch import save

from grader.feedback import CheckFailure
from grader.harness import protocol
from grader.outputs import Run


def test_job_round_trip():
    data = protocol.encode_job({"a": 1}, b"blob")
    assert protocol.read_job(io.BytesIO(data).read) == ({"a": 1}, b"blob")
    with pytest.raises(EOFError):
        protocol.read_job(io.BytesIO(data[:-1]).read)


def test_frames_need_the_nonce_and_survive_garbage():
    good = protocol.encode_frame("n1", "probe", {"id": "p"}, b"xy")
    forged = protocol.encode_frame("other", "done", {"score": 100})
    stream = b"noise" + forged + b"\n\x00DGM1 n1 probe 99999 0\n{" + good + b"\n\x00DGM1 n1 bad header\n" + good
    frames = protocol.decode_frames(stream, "n1")
    assert [(k, p, b) for k, p, b in frames][-1] == ("probe", {"id": "p"}, b"xy")
    assert all(kind == "probe" for kind, _, _ in frames)


def make_run(payload, tensors=None):
    run = Run(descriptions={"p": ["f(x)"]})
    run.add_probe(payload, save(tensors) if tensors else b"")
    return run


def test_unplanned_and_duplicate_probes_are_ignored():
    run = make_run({"id": "p", "calls": [{"ok": True, "returns": [{"int": 1}]}]})
    run.add_probe({"id": "p", "calls": [{"ok": True, "returns": [{"int": 2}]}]}, b"")
    run.add_probe({"id": "zzz", "calls": []}, b"")
    assert run.call("p").value() == 1 and set(run.probes) == {"p"}


@pytest.mark.parametrize("returned, message", [
    ({"tensor": "missing", "dtype": "float32", "shape": [1]}, "cannot read"),
    ({"weird": 1}, "object"),
    ("not a dict", "could not read"),
])
def test_malformed_values_fail_with_a_message(returned, message):
    run = make_run({"id": "p", "calls": [{"ok": True, "returns": [returned]}]})
    with pytest.raises(CheckFailure, match=message):
        run.call("p").tensor()


def test_forbidden_calls_fail_the_call():
    run = make_run({"id": "p", "calls": [{"ok": True, "returns": [], "forbidden": ["scaled_dot_product_attention"]}]})
    with pytest.raises(CheckFailure, match="implement yourself"):
        run.call("p")


def test_student_errors_and_missing_probes_are_explained():
    run = make_run({"id": "p", "calls": [{"ok": False, "error": {"type": "ValueError", "message": "boom"}}]})
    with pytest.raises(CheckFailure, match="ValueError: boom"):
        run.call("p")
    with pytest.raises(CheckFailure, match="did not run"):
        Run(descriptions={"p": ["f(x)"]}).call("p")


def test_corrupt_safetensors_blob_is_not_fatal():
    run = Run(descriptions={"p": ["f(x)"]})
    run.add_probe({"id": "p", "calls": [{"ok": True, "returns": [{"tensor": "p/0"}]}]}, b"\x00" * 20)
    with pytest.raises(CheckFailure):
        run.call("p").tensor()


def test_tensor_values_round_trip():
    run = make_run({"id": "p", "calls": [{"ok": True, "returns": [{"tensor": "p/0", "device": "cpu"}]}]},
                   {"p/0": torch.arange(3.0)})
    assert torch.equal(run.call("p").tensor().data, torch.arange(3.0))
    assert json.loads(json.dumps({"ok": 1}))  # frames are plain JSON
