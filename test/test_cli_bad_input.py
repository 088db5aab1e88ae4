"""Console scripts on bad input: one line on stderr, exit 2, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from testkit.bags import write_rosbag2
from testkit.files import DATA, read_photos

from gan_compress_ros.tools.bag import main
from gan_compress_ros.tools.eval import main as eval_main


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.stack(read_photos(DATA / "val", size=(96, 72))[:3])


def _one_line(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("case", ["missing", "text file", "empty folder", "not an image",
                                  "empty bag folder"])
def test_eval_bad_data(tmp_path: Path, capsys, case: str) -> None:
    data = tmp_path / "data"
    if case == "text file":
        data = tmp_path / "notes.txt"
        data.write_text("not frames")
    elif case == "empty folder":
        data.mkdir()
    elif case == "not an image":
        data.mkdir()
        (data / "photo.jpg").write_text("not a JPEG")
    elif case == "empty bag folder":
        data.mkdir()
        (data / "metadata.yaml").write_text("rosbag2_bagfile_information: {}\n")
    out = tmp_path / "out"
    err = _one_line(capsys, eval_main(["--weights", "low", "--data", str(data),
                                       "--out", str(out)]))
    assert err.startswith("gan-compress-eval: ")
    assert not out.exists()


def test_eval_bad_numbers(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    _one_line(capsys, eval_main(["--weights", "low", "--data", str(tmp_path), "--out",
                                 str(out), "--frame-stride", "0"]))
    assert not out.exists()


def _one_line_exit_2(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, frames: np.ndarray,
                                                  capsys) -> None:
    src = write_rosbag2(tmp_path / "in", frames, "mcap", topic="/a/image")
    out = tmp_path / "out"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "empty folder" in _one_line_exit_2(capsys, "compress", str(empty), str(out))
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert "not a readable rosbag" in _one_line_exit_2(capsys, "compress", str(notes),
                                                       str(out))
    silent = write_rosbag2(tmp_path / "silent", frames[:0], "mcap", topic="/a/image")
    assert "no messages on /a/image" in _one_line_exit_2(capsys, "compress", str(silent),
                                                         str(out))
    strings = tmp_path / "strings"
    store = get_typestore(Stores.ROS2_HUMBLE)
    with Writer(strings, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        conn = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        writer.write(conn, 1, bytes(store.serialize_cdr(
            store.types["std_msgs/msg/String"](data="hi"), "std_msgs/msg/String")))
    assert "0 image topics (none)" in _one_line_exit_2(capsys, "compress", str(strings),
                                                       str(out))
    # a cap below the smallest payload the weights make: said once, before any frame
    err = _one_line_exit_2(capsys, "compress", str(src), str(out), "--max-bytes", "3")
    assert "--max-bytes 3 is below the smallest payload" in err
    assert "gan-compress-bag: " in _one_line_exit_2(capsys, "compress", str(src), str(out),
                                                    "--max-bytes", "0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "in", "notes.txt",
                                                          "silent", "strings"]


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_bag_damaged_storage_file(tmp_path: Path, frames: np.ndarray, capsys,
                                  storage: str) -> None:
    src = write_rosbag2(tmp_path / "in", frames, storage, topic="/a/image")
    data = next(p for p in src.iterdir() if p.suffix in (".mcap", ".db3"))
    data.write_bytes(data.read_bytes()[:len(data.read_bytes()) // 2])
    code = main(["compress", str(src), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_bag_option_errors_name_the_flag(tmp_path: Path, frames: np.ndarray, capsys) -> None:
    src = write_rosbag2(tmp_path / "in", frames, "mcap", topic="/a/image")
    code = main(["compress", str(src), str(tmp_path / "out"), "--quality", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("gan-compress-bag: --quality 2.0: ") and \
        err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
