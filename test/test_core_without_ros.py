"""The functional core imports and runs with rclpy unavailable."""

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gan_compress_ros"

SCRIPT = """
import sys
sys.modules["rclpy"] = None  # any import of rclpy now raises ImportError
import numpy as np
import gan_compress_ros.codec as codec
import gan_compress_ros.training.trainer
import gan_compress_ros.tools.train
from gan_compress_ros.codec.nn.model import CodecModel
c = codec.Codec.from_model(CodecModel("compact", {"channels": 8, "latent_channels": 4}))
out = c.decode(c.encode(np.zeros((64, 64, 3), np.uint8)))
assert out.shape == (1, 64, 64, 3)
assert not any(m == "rclpy" or m.startswith("rclpy.") for m in sys.modules if sys.modules[m])
"""


def test_core_runs_with_rclpy_blocked() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_core_sources_never_import_rclpy() -> None:
    for folder in ("codec", "training"):
        for path in (PACKAGE / folder).rglob("*.py"):
            text = path.read_text()
            assert "import rclpy" not in text and "from rclpy" not in text, path


def _python(blocked: list[str], body: str) -> subprocess.CompletedProcess:
    """Run ``body`` in a fresh interpreter in which the ``blocked`` modules cannot import."""
    script = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked) + body
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)


def test_nodes_and_the_codec_runtime_never_import_training() -> None:
    """The robot's code paths load neither the trainer nor (at import) torch."""
    body = (
              "import gan_compress_ros.codec, gan_compress_ros.image, importlib, pathlib\n"
              "for f in pathlib.Path(gan_compress_ros.codec.__file__).parent.glob('*.py'):\n"
              "    importlib.import_module('gan_compress_ros.codec.' + f.stem)\n"
              "import gan_compress_ros.nodes.encoder_node, gan_compress_ros.nodes.decoder_node\n"
              "import gan_compress_ros.nodes.camera_source\n"
              "print('ok')\n")
    proc = _python(["gan_compress_ros.training", "torch"], body)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
    for folder in ("nodes", "codec"):
        for path in (PACKAGE / folder).glob("*.py"):
            text = path.read_text()
            assert "training" not in "".join(
                line for line in text.splitlines() if line.startswith(("from ", "import "))
            ), path


def test_pictures_are_an_extra_with_a_clear_error() -> None:
    """Without matplotlib and Pillow the codec and nodes work; a plot says what to install."""
    body = ("import numpy as np\n"
              "import gan_compress_ros.nodes.encoder_node, gan_compress_ros.tools.eval\n"
              "from gan_compress_ros.training.plots import save_grid\n"
              "try:\n"
              "    save_grid([('x', np.zeros((1, 64, 64, 3), np.uint8))], 'never.png')\n"
              "except ImportError as exc:\n"
              "    print(exc)\n")
    proc = _python(["matplotlib", "PIL"], body)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "gan_compress_ros[plots]" in proc.stdout


def test_bags_are_an_extra_with_a_clear_error() -> None:
    """Without rosbags the nodes convert every encoding; the bag tool says what to install."""
    body = ("import numpy as np\n"
            "from types import SimpleNamespace\n"
            "import gan_compress_ros.nodes.encoder_node\n"
            "from gan_compress_ros.image import image_msg_to_rgb\n"
            "msg = SimpleNamespace(height=2, width=2, encoding='bayer_rggb8', is_bigendian=0,\n"
            "                      step=2, data=bytes(4))\n"
            "assert image_msg_to_rgb(msg).shape == (2, 2, 3)\n"
            "try:\n"
            "    import gan_compress_ros.tools.bag\n"
            "except ImportError as exc:\n"
            "    print(exc)\n")
    proc = _python(["rosbags"], body)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "gan_compress_ros[bags]" in proc.stdout
