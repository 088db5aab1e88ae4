"""Makes ``import torch`` fail in this process, as on a robot where PyTorch is not installed.

Put this folder on PYTHONPATH (``testkit.files.without_torch()``) to prove that the onnxruntime
backend, the codec core and the nodes run without torch. ``GAN_TEST_BLOCK`` (comma-separated
module names, default ``torch``) blocks others too, e.g. constriction, which has no wheel for
a Jetson.
"""

import os
import sys

_BLOCKED = tuple(m for m in os.environ.get("GAN_TEST_BLOCK", "torch").split(",") if m)


class _Blocker:
    """A meta path finder that refuses the blocked modules and their submodules."""

    def find_spec(self, name, path=None, target=None):
        if any(name == m or name.startswith(m + ".") for m in _BLOCKED):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: testing without "
                                      f"{', '.join(_BLOCKED)})", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
