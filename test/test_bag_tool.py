"""gan-compress-bag: image topic -> latent topic -> images, timestamps and sizes kept."""

from pathlib import Path

import numpy as np
import pytest
from testkit.bags import write_rosbag1, write_rosbag2
from testkit.files import DATA, read_photos

from gan_compress_ros.tools.bag import iter_topic, main


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.stack(read_photos(DATA / "val", size=(96, 72)))


@pytest.mark.parametrize("storage, suffix", [("mcap", ".mcap"), ("sqlite3", ".db3")])
def test_compress_then_decompress(tmp_path: Path, frames: np.ndarray, trained_weights: Path,
                                  storage: str, suffix: str, capsys) -> None:
    src = write_rosbag2(tmp_path / "in", frames, storage, topic="/cam/image_raw")
    w = ["--weights", str(trained_weights)]
    assert main(["compress", str(src), str(tmp_path / "gan"), "--topic", "/cam/image_raw",
                 *w]) == 0
    assert "bytes ->" in capsys.readouterr().out
    assert any(p.suffix == suffix for p in (tmp_path / "gan").iterdir())
    latents = list(iter_topic(tmp_path / "gan", "/cam/image_raw/gan"))
    assert [t for t, _ in latents] == [t for t, _ in iter_topic(src, "/cam/image_raw")]
    assert all(m.format == "gan_compress" for _, m in latents)
    assert list(iter_topic(tmp_path / "gan", "/cam/image_raw")) == []  # replaced
    assert main(["decompress", str(tmp_path / "gan"), str(tmp_path / "out"), "--topic",
                 "/cam/image_raw/gan", *w]) == 0
    images = list(iter_topic(tmp_path / "out", "/cam/image_raw/decoded"))
    assert len(images) == len(frames) and images[0][1].width == 64


def test_keep_and_other_topics(tmp_path: Path, frames: np.ndarray, trained_weights: Path) -> None:
    src = write_rosbag2(tmp_path / "in", frames, "mcap", topic="/a/image")
    assert main(["compress", str(src), str(tmp_path / "gan"), "--topic", "/a/image", "--keep",
                 "--weights", str(trained_weights)]) == 0
    assert len(list(iter_topic(tmp_path / "gan", "/a/image"))) == len(frames)
    assert len(list(iter_topic(tmp_path / "gan", "/a/image/gan"))) == len(frames)


def test_ros1_input_becomes_rosbag2(tmp_path: Path, frames: np.ndarray,
                                    trained_weights: Path) -> None:
    src = write_rosbag1(tmp_path / "in.bag", frames, topic="/cam/image", compressed=True)
    assert main(["compress", str(src), str(tmp_path / "gan"),  # the only image topic
                 "--weights", str(trained_weights)]) == 0
    assert len(list(iter_topic(tmp_path / "gan", "/cam/image/gan"))) == len(frames)
    # the camera's CameraInfo, in its ROS 2 form, fitted to the 64x64 frame: written once,
    # as it never changes
    infos = [m for _, m in iter_topic(tmp_path / "gan", "/cam/image/gan/camera_info")]
    assert len(infos) == 1 and (infos[0].width, infos[0].height) == (64, 64)
    assert infos[0].k[0] == 64 / min(frames.shape[1:3]) and infos[0].header.frame_id == "camera"
    assert list(iter_topic(tmp_path / "gan", "/cam/camera_info")) == []  # only with --keep


def test_errors_are_reported(tmp_path: Path, frames: np.ndarray, trained_weights: Path,
                             capsys) -> None:
    src = write_rosbag2(tmp_path / "in", frames, "mcap", topic="/a/image")
    assert main(["compress", str(src), str(tmp_path / "o"), "--topic", "/nope",
                 "--weights", str(trained_weights)]) == 2
    assert "no topic '/nope'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["compress", str(tmp_path / "missing"), str(tmp_path / "o2"), "--topic", "/a",
                 "--weights", str(trained_weights)]) == 2
    not_a_bag = tmp_path / "notes.bag"
    not_a_bag.write_text("not a bag")
    capsys.readouterr()
    assert main(["compress", str(not_a_bag), str(tmp_path / "o3"),
                 "--weights", str(trained_weights)]) == 2
    assert "not a readable rosbag" in capsys.readouterr().err
    two = write_rosbag2(tmp_path / "two", frames, "mcap", topic="/b/image")
    assert main(["decompress", str(two), str(tmp_path / "o4"),
                 "--weights", str(trained_weights)]) == 2
    assert "0 latent (*/gan) topics" in capsys.readouterr().err


def test_padded_rows_are_read_like_the_encoder_node_reads_them(tmp_path: Path,
                                                               frames: np.ndarray,
                                                               trained_weights: Path) -> None:
    """Rows with a step beyond width * 3 are not sheared (regression: the bag tool did)."""
    from gan_compress_ros.codec import Codec
    from gan_compress_ros.image import fit

    padded = write_rosbag2(tmp_path / "padded", frames, "mcap", topic="/cam/image", pad=13)
    assert main(["compress", str(padded), str(tmp_path / "gan"), "--topic", "/cam/image",
                 "--weights", str(trained_weights)]) == 0
    got = [m.data.tobytes() for _, m in iter_topic(tmp_path / "gan", "/cam/image/gan")]
    codec = Codec.load(str(trained_weights))
    want = [codec.encode(fit(f))[0] for f in frames]
    assert got == want


def test_quality_and_byte_cap(tmp_path: Path, frames: np.ndarray, trained_weights: Path,
                              capsys) -> None:
    src = write_rosbag2(tmp_path / "in", frames, "mcap", topic="/a/image")

    def sizes(out: str, *options: str) -> list[int]:
        assert main(["compress", str(src), str(tmp_path / out), *options]) == 0
        return [len(m.data) for _, m in iter_topic(tmp_path / out, "/a/image/gan")]

    default = sizes("d")
    low = sizes("q0", "--quality", "0")
    capped = sizes("cap", "--max-bytes", "90")
    assert len(default) == len(low) == len(frames)
    assert sum(low) < sum(default)
    assert capped and max(capped) <= 90
    # a fixed-rate model has no quality knob: one line, no output
    assert main(["compress", str(src), str(tmp_path / "f"), "--max-bytes", "90",
                 "--weights", str(trained_weights)]) == 2
    assert "max_bytes needs a variable-rate model" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()


def test_key_interval_compresses_an_ordered_clip(tmp_path: Path, trained_weights: Path,
                                                 capsys) -> None:
    """Temporal mode on a bag of the bundled surveillance clip: fewer bytes, same frames."""
    from testkit.files import SAMPLE

    from gan_compress_ros.codec import Codec

    clip = np.stack(read_photos(SAMPLE)[:24])
    src = write_rosbag2(tmp_path / "in", clip, "mcap", topic="/cam/image_raw")
    assert main(["compress", str(src), str(tmp_path / "intra")]) == 0
    assert main(["compress", str(src), str(tmp_path / "temporal"), "--key-interval", "12"]) == 0
    intra = [bytes(m.data) for _, m in iter_topic(tmp_path / "intra", "/cam/image_raw/gan")]
    temporal = [bytes(m.data) for _, m in iter_topic(tmp_path / "temporal",
                                                    "/cam/image_raw/gan")]
    assert len(temporal) == len(intra) == len(clip)
    assert sum(map(len, temporal)) < 0.5 * sum(map(len, intra))
    assert main(["decompress", str(tmp_path / "temporal"), str(tmp_path / "out")]) == 0
    images = [np.frombuffer(bytes(m.data), np.uint8).reshape(64, 64, 3)
              for _, m in iter_topic(tmp_path / "out", "/cam/image_raw/decoded")]
    dec = Codec.load().stream_decoder()
    assert all(np.array_equal(a, dec.decode(p)) for a, p in zip(images, temporal, strict=True))
    # weights that cannot do it: one clear line, no output
    capsys.readouterr()
    assert main(["compress", str(src), str(tmp_path / "x"), "--key-interval", "5",
                 "--weights", str(trained_weights)]) == 2
    assert "temporal mode needs a variable-rate model" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_interrupt_or_failure_leaves_nothing(tmp_path: Path, frames: np.ndarray, capsys,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (or any error) in the middle of a bag: no output, not even a partial one."""
    import gan_compress_ros.tools.bag as bag_tool

    src = write_rosbag2(tmp_path / "in", frames, "sqlite3", topic="/a/image")
    calls = []
    real_fit = bag_tool.fit

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(bag_tool, "fit", interrupted)
    assert main(["compress", str(src), str(tmp_path / "out")]) == 130
    assert "interrupted" in capsys.readouterr().err and len(calls) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]
    # and a second run then succeeds where the first left off nothing in its way
    monkeypatch.undo()
    assert main(["compress", str(src), str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]
