"""Damaged bags (issue 10): never a silent short read; the repair named; --allow-partial.

Small synthetic drives from ``ncp-synth`` (MCAP with JPEG frames, sqlite3, ROS 1), damaged by
overwriting bytes inside a chunk, deleting rows or cutting the file short.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import h5py
import pytest

from ncp_driver.bags import BagError, Recording
from ncp_driver.bags.errors import IncompleteBagError
from ncp_driver.schemas import PartialInput, SchemaError
from ncp_driver.synth.cli import main as synth

RunCli = Callable[..., tuple[int, str, str]]
CAMERA = "/camera/image_raw/compressed"


def make_bag(root: Path, fmt: str, name: str = "drive") -> Path:
    out = root / (name + (".bag" if fmt == "ros1" else ""))
    # MCAP as a rosbag2 folder written by rosbags (its chunk layout is what the damage targets)
    storage = "ros2-mcap-folder" if fmt == "ros2-mcap" else fmt
    args = ["--out", str(out), "--format", storage, "--duration", "8", "--camera-hz", "10"]
    args += ["--size", "48x80", "--takeover-times", "6", "--no-progress"]
    assert synth([*args, "--compressed"] if fmt != "ros1" else args) == 0
    return out


@pytest.fixture(scope="module")
def bags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("damaged_src")
    return {fmt: make_bag(root, fmt, fmt) for fmt in ("ros2-mcap", "ros2-sqlite3", "ros1")}


def copy(src: Path, dst: Path) -> Path:
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy(src, dst)
    return dst


def mcap_file(bag: Path) -> Path:
    return next(bag.glob("*.mcap"))


def first_chunk_records(path: Path) -> tuple[int, list[int]]:
    """The end of the first chunk's records and the offsets of its message records (the
    chunk's place from rosbags' index; rosbags writes chunks uncompressed)."""
    from rosbags.rosbag2.storage_mcap import McapReader

    reader = McapReader(path)
    reader.open()
    chunk = reader.chunks[0]
    reader.close()
    assert chunk.compression == ""
    data = path.read_bytes()
    start = chunk.chunk_start_offset + 9 + 8 + 8 + 8 + 4 + 4 + 8  # op, length, times, crc, ...
    (records_len,) = struct.unpack_from("<Q", data, start - 8)
    offsets, i = [], start
    while i < start + records_len:
        (size,) = struct.unpack_from("<Q", data, i + 1)
        if data[i] == 0x05:
            offsets.append(i)
        i += 9 + size
    return start + records_len, offsets


def swallow_chunk(bag: Path, record: int = 10) -> None:
    """Overwrite one message record's length so that it swallows the rest of its chunk: the
    reader parses on without an error and loses every later message of the chunk."""
    path = mcap_file(bag)
    end, offsets = first_chunk_records(path)
    data = bytearray(path.read_bytes())
    at = offsets[record]
    struct.pack_into("<Q", data, at + 1, end - at - 9)
    path.write_bytes(bytes(data))


# -- item 1: a short read is never silent ------------------------------------------------------
def test_a_damaged_mcap_chunk_fails_every_command(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    bag = copy(bags["ros2-mcap"], tmp_path / "damaged")
    swallow_chunk(bag)
    for args in (
        ["takeovers", bag],
        ["discomfort", bag],
        ["info", "--exact", bag],
        ["extract", bag, "-o", tmp_path / "out"],
        ["trainset", bag, "-o", tmp_path / "train.h5", "--wheelbase", "2.7"],
    ):
        code, _out, err = run_cli(*args)
        assert code == 1, (args, err)
        assert "damaged or cut short" in err and "lost" in err and "--allow-partial" in err
        assert f"mcap recover {mcap_file(bag)}" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "train.h5").exists()


def test_allow_partial_says_what_was_lost(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    bag = copy(bags["ros2-mcap"], tmp_path / "damaged")
    swallow_chunk(bag)
    code, out, err = run_cli("takeovers", bag, "--allow-partial", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["input"]["complete"] is False
    losses = {loss["topic"]: loss for loss in doc["input"]["losses"]}
    assert "/vehicle/autonomous" in losses
    flag = losses["/vehicle/autonomous"]
    assert flag["declared"] == 160 and 0 < flag["read"] < 160
    assert flag["missing"] == flag["declared"] - flag["read"]
    assert 0 <= flag["gap_from_s"] < flag["gap_to_s"] <= 8.0
    assert "PARTIAL INPUT" in err
    code, out, err = run_cli("extract", bag, "-o", tmp_path / "out", "--allow-partial")
    assert code == 0, err
    saved = json.loads((tmp_path / "out" / "partial_input.json").read_text())
    assert saved["complete"] is False and CAMERA in {x["topic"] for x in saved["losses"]}
    typed = PartialInput.read(tmp_path / "out" / "partial_input.json")  # its schema, and back
    assert saved["schema"] == "ncp_driver/partial_input" and typed.to_json() == saved
    saved["losses"][0]["read"] = "12"
    with pytest.raises(SchemaError, match=r"losses\[0\]\.read must be an integer"):
        PartialInput.from_json(saved)
    code, out, err = run_cli(
        "trainset", bag, "-o", tmp_path / "t.h5", "--allow-partial", "--wheelbase", "2.7"
    )
    assert code == 0, err
    with h5py.File(tmp_path / "t.h5") as h5:
        assert not h5.attrs["input_complete"]
        assert json.loads(h5.attrs["input_integrity"])["losses"]


def test_an_intact_bag_is_complete(bags: dict[str, Path], run_cli: RunCli) -> None:
    for bag in bags.values():
        code, out, err = run_cli("takeovers", bag, "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["input"] == {"complete": True, "losses": [], "counts_unchecked": []}
        assert doc["takeovers"] == 1


def test_a_deleted_sqlite_row_is_found(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    bag = copy(bags["ros2-sqlite3"], tmp_path / "rows")
    with sqlite3.connect(next(bag.glob("*.db3"))) as con:
        topic_id = con.execute("SELECT id FROM topics WHERE name = '/gps/fix'").fetchone()[0]
        con.execute(
            "DELETE FROM messages WHERE id = (SELECT id FROM messages WHERE topic_id = ? "
            "ORDER BY id LIMIT 1 OFFSET 40)",
            (topic_id,),
        )
    code, _out, err = run_cli("takeovers", bag)
    assert code == 1 and "/gps/fix: read 79 of the 80 messages" in err


def test_a_bag_without_declared_counts_is_read_to_the_end_and_says_so(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    bare = next(bags["ros2-sqlite3"].glob("*.db3"))
    code, out, err = run_cli("takeovers", bare, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["input"]["counts_unchecked"] == [str(bare)] and doc["takeovers"] == 1
    assert "the counts could not be checked" in err


def test_seeded_corruption_is_never_silent(bags: dict[str, Path], tmp_path: Path) -> None:
    """40 seeded overwrites (1 byte to 4 KiB) of the MCAP file: each read either fails with the
    bag layer's error or gives every message the bag declares."""
    source = mcap_file(bags["ros2-mcap"])
    original = source.read_bytes()
    rng = random.Random(10)
    outcomes: Counter[str] = Counter()
    for case in range(40):
        bag = copy(bags["ros2-mcap"], tmp_path / f"case{case}")
        at, size = rng.randrange(64, len(original) - 4096), rng.choice([1, 16, 256, 4096])
        data = bytearray(original)
        data[at : at + size] = bytes(rng.randrange(256) for _ in range(size))
        mcap_file(bag).write_bytes(bytes(data))
        try:
            with Recording([bag]) as rec:
                declared = {t: info.msgcount for t, info in rec.topics.items()}
                read = Counter(m.topic for m in rec.raw(list(declared)))
        except IncompleteBagError:
            outcomes["incomplete"] += 1
            continue
        except BagError:
            outcomes["unreadable"] += 1
            continue
        assert dict(read) == declared, f"case {case}: silent loss at byte {at}"
        outcomes["complete"] += 1
    assert outcomes["incomplete"] > 0, outcomes


# -- item 8: repair hints name the data file -----------------------------------------------------
def test_a_cut_mcap_names_the_file_and_the_repair(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    bag = copy(bags["ros2-mcap"], tmp_path / "cut")
    path = mcap_file(bag)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, _out, err = run_cli("takeovers", bag)
    assert code == 1
    assert f"`mcap recover {path} -o recovered.mcap`" in err


def test_an_overflowing_mcap_record_is_the_bag_layers_error(
    bags: dict[str, Path], tmp_path: Path
) -> None:
    bag = copy(bags["ros2-mcap"], tmp_path / "overflow")
    path = mcap_file(bag)
    _, offsets = first_chunk_records(path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<Q", data, offsets[3] + 1, 2**63 + 5)  # a length no int can hold
    path.write_bytes(bytes(data))
    with Recording([bag]) as rec, pytest.raises(IncompleteBagError) as info:
        list(rec.raw([CAMERA]))
    text = str(info.value)
    assert "OverflowError" in text and f"{path}, the chunk at bytes" in text
    assert f"mcap recover {path}" in text
    with Recording([bag], allow_partial=True) as rec:  # accepted: what was read, and why not more
        read = len(list(rec.raw([CAMERA])))
    (loss,) = rec.integrity()["losses"]
    assert loss["read"] == read < loss["declared"] and "OverflowError" in loss["error"]


def test_a_damaged_sqlite_file_names_the_db3_file(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    bag = copy(bags["ros2-sqlite3"], tmp_path / "cut")
    path = next(bag.glob("*.db3"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    code, _out, err = run_cli("takeovers", bag)
    assert code == 1
    assert f"`sqlite3 {path} .recover | sqlite3 recovered.db3`" in err


# -- item 7: extract --model validates as the pipeline does --------------------------------------
@pytest.fixture(scope="module")
def nan_model(nan_default_model: Path) -> Path:
    return nan_default_model


def test_extract_model_refuses_what_the_pipeline_refuses(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli, nan_model: Path
) -> None:
    bag = bags["ros2-mcap"]
    code, _out, err = run_cli("extract", bag, "-o", tmp_path / "a", "--model", nan_model)
    assert code == 1 and "not finite" in err
    folder = tmp_path / "model_dir"
    folder.mkdir()
    code, _out, err = run_cli("extract", bag, "-o", tmp_path / "b", "--model", folder)
    assert code == 2 and "does not exist" not in err and "is a directory, not a model" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_extract_model_refuses_a_contract_that_disagrees_with_its_graph(
    bags: dict[str, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    """The metadata alone would give a 100-wide crop; the graph takes 200: the car refuses it."""
    onnx = pytest.importorskip("onnx")
    from ncp_driver.models import default_model_path

    proto = onnx.load(str(default_model_path()))
    for prop in proto.metadata_props:
        if prop.key == "ncp_driver.preprocessing":
            spec = json.loads(prop.value)
            spec["out_width"] = 100
            prop.value = json.dumps(spec)
    model = tmp_path / "mismatch.onnx"
    onnx.save(proto, str(model))
    code, _out, err = run_cli("extract", bags["ros2-mcap"], "-o", tmp_path / "x", "--model", model)
    assert code == 1 and "the contract and the graph disagree" in err
