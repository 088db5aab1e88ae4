"""The onnxruntime backend: an export's ONNX models on the best execution provider present.

Needs no torch. Providers are tried in the order TensorRT, CUDA, CPU (``device`` picks which
are allowed); the TensorRT provider caches its engines, because building one on a Jetson takes
minutes, and runs fp16 when asked. Pre- and post-processing match the torch backend's
(divide by 255, round half to even, clamp), so both write the same bitstream.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .choices import ONNXRUNTIME
from .errors import WeightsError
from .export_dir import MANIFEST, ROLES, ExportDir

TENSORRT, CUDA, CPU = ("TensorrtExecutionProvider", "CUDAExecutionProvider",
                       "CPUExecutionProvider")
#: Preference order of the execution providers.
PROVIDER_ORDER = (TENSORRT, CUDA, CPU)
_SCALE = np.float32(255.0)


def import_onnxruntime() -> Any:
    """The onnxruntime module, or a ValueError that says how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise ValueError("backend onnxruntime needs the onnxruntime package: pip install "
                         "onnxruntime (onnxruntime-gpu for CUDA; on a Jetson, the JetPack "
                         "wheel, see README)") from None
    return onnxruntime


def trt_cache_dir() -> Path:
    """Where the TensorRT provider keeps built engines between runs (a folder per model)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gan_compress_ros" / "tensorrt"


def choose_providers(device: str, available: list[str]) -> list[str]:
    """Execution providers for ``device`` (cpu, cuda[:N], auto), best first."""
    kind = str(device).split(":")[0]
    if kind == "cpu":
        return [CPU]
    gpu = [p for p in PROVIDER_ORDER if p != CPU and p in available]
    if kind == "cuda":
        if not gpu:
            raise ValueError(f"device {device!r} requested but this onnxruntime has no CUDA or "
                             f"TensorRT provider (it has {', '.join(available)}); install "
                             "onnxruntime-gpu")
        return [*gpu, CPU]  # CPU runs any node the GPU providers cannot
    if kind == "auto":
        return [*gpu, CPU]
    raise ValueError(f"unknown device {device!r}: use cpu, cuda or auto")


def _device_id(device: str) -> int:
    _, _, index = str(device).partition(":")
    try:
        return int(index or 0)
    except ValueError:
        raise ValueError(f"unknown device {device!r}: use cpu, cuda, cuda:N or auto") from None


def engine_cache(entry: dict[str, Any]) -> Path:
    """The TensorRT engine folder of one model file (by its hash, so no two share one)."""
    return trt_cache_dir() / entry["sha256"][:16]


def provider_options(providers: list[str], device_id: int, trt_fp16: bool,
                     engine_cache: Path) -> list[dict[str, Any]]:
    """Options of each provider.

    ``engine_cache`` must be one model's own folder: TensorRT names cached engines by model
    file and node names, which all exports of a preset share.
    """
    options: list[dict[str, Any]] = []
    for provider in providers:
        if provider == TENSORRT:
            options.append({"device_id": device_id, "trt_fp16_enable": trt_fp16,
                            "trt_engine_cache_enable": True,
                            "trt_engine_cache_path": str(engine_cache)})
        elif provider == CUDA:
            options.append({"device_id": device_id})
        else:
            options.append({})
    return options


class OnnxTransforms:
    """Analysis and synthesis of an ONNX export; NumPy in and out.

    Both sessions are created (and checked) at load, so a bad export stops a node at start
    rather than at its first frame; an encoder-only node holds the decoder's too.
    """

    name = ONNXRUNTIME

    def __init__(self, export_dir: ExportDir, device: str = "cpu", precision: str = "fp32",
                 threads: int = 0) -> None:
        ort = import_onnxruntime()
        providers = choose_providers(device, ort.get_available_providers())
        device_id = _device_id(device)
        trt_fp16 = precision == "fp16" and providers[0] == TENSORRT
        if precision == "fp16" and "fp16" not in export_dir.precisions and not trt_fp16:
            raise ValueError(f"precision fp16 needs fp16 models in the export (gan-compress-"
                             f"export --half) or the TensorRT provider; {export_dir.path} has "
                             f"{', '.join(export_dir.precisions)} only")
        file_precision = precision if precision in export_dir.precisions else "fp32"
        session_options = ort.SessionOptions()
        session_options.intra_op_num_threads = threads
        session_options.log_severity_level = 3  # errors only: node logs stay readable
        self.export_dir = export_dir
        self.precision = precision
        self.device = str(device)
        self.latent_shape = export_dir.latent_shape
        self._version = ort.__version__
        self._sessions = {}
        for role in ROLES:
            cache = engine_cache(export_dir.manifest["models"][role][file_precision])
            if TENSORRT in providers:
                try:
                    cache.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ValueError(f"cannot create the TensorRT engine cache {cache} "
                                     f"({exc.strerror}); point XDG_CACHE_HOME at a writable "
                                     "folder") from None
            chosen = list(zip(providers, provider_options(providers, device_id, trt_fp16,
                                                          cache), strict=True))
            path = export_dir.model_path(role, file_precision)
            try:
                session = ort.InferenceSession(str(path), session_options, providers=chosen)
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
                raise WeightsError(f"ONNX export {export_dir.path}: onnxruntime cannot load "
                                   f"{path.name}: {exc}") from None
            # fp16 from fp32 models exists only in TensorRT: it must have started
            self._check(session, role, providers, trt_fp16 and file_precision == "fp32")
            self._sessions[role] = session
        self._inputs = {r: s.get_inputs()[0].name for r, s in self._sessions.items()}
        self.providers: list[str] = self._sessions["encoder"].get_providers()
        self.model_files = {r: export_dir.model_path(r, file_precision).name
                            for r in self._sessions}

    def _check(self, session: Any, role: str, wanted: list[str], needs_trt: bool) -> None:
        """The model's latent side has the manifest's shape, and the providers started."""
        latent = (session.get_outputs() if role == "encoder" else session.get_inputs())[0]
        if list(latent.shape[1:]) != list(self.latent_shape):
            raise WeightsError(f"ONNX export {self.export_dir.path}: the {role}'s latent has "
                               f"shape "
                               f"{latent.shape[1:]}, {MANIFEST} says {list(self.latent_shape)}")
        got = session.get_providers()
        if wanted[0] != CPU and got[0] == CPU and not self.device.startswith("auto"):
            raise ValueError(f"device {self.device!r}: onnxruntime could not start "
                             f"{wanted[0]} for the {role} (check CUDA, cuDNN and TensorRT); "
                             "device auto would run on the CPU instead")
        if needs_trt and got[0] != TENSORRT:
            raise ValueError(f"precision fp16 needs the TensorRT provider, which did not start "
                             f"for the {role} (got {', '.join(got)}); use fp32, or fp16 "
                             "models from gan-compress-export --half")

    frozen = False

    def describe(self) -> str:
        """One line for logs: runtime, providers, precision, model files."""
        return (f"onnxruntime {self._version} with {', '.join(self.providers)}, "
                f"{self.precision} ({', '.join(self.model_files.values())})")

    def analyse(self, frames: np.ndarray) -> np.ndarray:
        """Latent (N, C, h, w) float32, not rounded, of uint8 RGB frames (N, 64, 64, 3)."""
        x = np.ascontiguousarray(frames.transpose(0, 3, 1, 2), dtype=np.float32) / _SCALE
        y = self._sessions["encoder"].run(None, {self._inputs["encoder"]: x})[0]
        return y.astype(np.float32, copy=False)

    def synthesise(self, y_hat: np.ndarray) -> np.ndarray:
        """uint8 RGB frames (N, 64, 64, 3) from a latent (N, C, h, w)."""
        feed = {self._inputs["decoder"]: np.ascontiguousarray(y_hat, dtype=np.float32)}
        x_hat = self._sessions["decoder"].run(None, feed)[0].astype(np.float32, copy=False)
        x_hat = np.round(np.clip(x_hat, 0.0, 1.0) * _SCALE).astype(np.uint8)
        return np.ascontiguousarray(x_hat.transpose(0, 2, 3, 1))
