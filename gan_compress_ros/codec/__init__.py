"""The codec core: NumPy plus a backend (PyTorch or ONNX Runtime); never imports rclpy.

``Codec`` is the public API (README, "Python API"); the modules below hold one concept
each. Nothing imported here needs torch, so the onnxruntime backend runs where torch is not
installed.
"""

from .api import Codec
from .bundled import WeightsRef
from .choices import BACKENDS, PRECISIONS
from .errors import BitstreamError, ByteCapError, WeightsError
from .latent import CodedFrame
from .presets import DEFAULT_PRESET, PRESET_DEFAULTS

__all__ = ["Codec", "CodedFrame", "WeightsRef", "BitstreamError", "ByteCapError",
           "WeightsError", "DEFAULT_PRESET", "PRESET_DEFAULTS", "BACKENDS", "PRECISIONS"]
