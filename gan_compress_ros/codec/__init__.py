"""The codec core: pure PyTorch + NumPy, never imports rclpy.

``Codec`` is the public API (see DESIGN.md); the modules below hold one concept each.
"""

from .api import Codec, resolve_device
from .errors import BitstreamError, WeightsError
from .presets import DEFAULT_PRESET, PRESET_DEFAULTS

__all__ = ["Codec", "BitstreamError", "WeightsError", "DEFAULT_PRESET", "PRESET_DEFAULTS",
           "resolve_device"]
