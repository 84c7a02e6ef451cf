"""Which drives a DRIVE argument names: bags, bag folders, folders of drives, globs, manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ncp_driver.fleet import FleetError, find_drives


def _bag_folder(path: Path, storage: str = "x.db3", metadata: bool = True) -> Path:
    path.mkdir(parents=True)
    (path / storage).write_bytes(b"")
    if metadata:
        (path / "metadata.yaml").write_text("rosbag2_bagfile_information: {}\n")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """drives/a (ROS 2 folder), drives/sub/b (a folder holding one .db3), drives/sub/c.mcap,
    drives/d.bag; drives/notes.txt is no bag and no manifest of drives."""
    root = tmp_path / "drives"
    _bag_folder(root / "a")
    _bag_folder(root / "sub" / "b", metadata=False)
    (root / "sub" / "c.mcap").write_bytes(b"")
    (root / "d.bag").write_bytes(b"")
    return root


def test_a_folder_of_drives_holds_every_bag_below_it(tree: Path) -> None:
    drives = find_drives([tree])
    assert [d.name for d in drives] == ["a", "d", "b", "c"]
    assert [d.path for d in drives] == [
        tree / "a",
        tree / "d.bag",
        tree / "sub" / "b",
        tree / "sub" / "c.mcap",
    ]


def test_a_bag_folder_is_one_drive_and_a_glob_each_match(tree: Path) -> None:
    assert [d.path for d in find_drives([tree / "a"])] == [tree / "a"]
    assert [d.path for d in find_drives([tree / "sub" / "b"])] == [tree / "sub" / "b"]
    assert [d.name for d in find_drives([str(tree / "**" / "*.mcap")])] == ["c"]
    # The same bag named twice is one drive.
    assert len(find_drives([tree / "a", tree, str(tree / "a")])) == 4


def test_a_text_manifest_gives_tags_and_names(tree: Path) -> None:
    manifest = tree.parent / "fleet.txt"
    manifest.write_text(
        "# path   tags\n"
        "drives/a        weather=rain road=urban\n"
        "\n"
        "drives/sub/c.mcap  weather=dry name=highway   # a comment\n"
    )
    drives = find_drives([manifest])
    assert [(d.name, d.tags) for d in drives] == [
        ("a", {"weather": "rain", "road": "urban"}),
        ("highway", {"weather": "dry"}),
    ]
    assert drives[0].path == tree / "a"


def test_a_json_manifest(tree: Path) -> None:
    manifest = tree.parent / "fleet.json"
    doc = {"drives": [{"path": "drives/d.bag", "tags": {"road": "rural"}}, "drives/sub"]}
    manifest.write_text(json.dumps(doc))
    drives = find_drives([manifest])
    assert [(d.name, d.tags) for d in drives] == [
        ("d", {"road": "rural"}),
        ("b", {}),
        ("c", {}),
    ]


def test_names_are_made_unique(tmp_path: Path) -> None:
    _bag_folder(tmp_path / "x" / "drive")
    _bag_folder(tmp_path / "y" / "drive")
    assert [d.name for d in find_drives([tmp_path])] == ["drive", "drive-2"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p / "missing.db3", ["does not exist"]),
        (lambda p: (p / "empty").mkdir() or p / "empty", ["no bag below it"]),
        (lambda p: str(p / "*.nothing"), ["matches nothing"]),
        (
            lambda p: (p / "bad.txt").write_text("a.db3 tag_without_value\n") and p / "bad.txt",
            ["KEY=VALUE"],
        ),
        (lambda p: (p / "bad.json").write_text("{") and p / "bad.json", ["not valid JSON"]),
    ],
)
def test_bad_drive_arguments_say_what_is_wrong(tmp_path: Path, make, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FleetError) as caught:
        find_drives([make(tmp_path)])
    for word in words:
        assert word in str(caught.value)
