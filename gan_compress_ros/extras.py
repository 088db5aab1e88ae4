"""Optional dependencies: import them where a tool needs them, with an error that says how.

The robot's install (codec, nodes) needs neither plotting, Pillow nor rosbags; tools that
draw pictures, write AVIF/GIF or read bags ask for them through ``need``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Which extra of the package brings each optional module.
EXTRAS = {"matplotlib": "plots", "PIL": "plots", "av": "eval", "rosbags": "bags",
          "serial": "link"}


def need(module: str) -> ModuleType:
    """Import ``module``; ImportError naming the extra to install if it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, "?")
        raise ImportError(f"{top} is not installed; install it with "
                          f"pip install 'gan_compress_ros[{extra}]' ({exc})") from None


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    matplotlib = need("matplotlib")
    matplotlib.use("Agg")
    return need("matplotlib.pyplot")
