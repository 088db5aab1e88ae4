"""gan-compress-export: a weights file as ONNX models for the onnxruntime backend (no torch).

Writes ``encoder.onnx``, ``decoder.onnx`` (and ``*.fp16.onnx`` with ``--half``),
``codec.json`` (model id, entropy tables or the context model's hash, metadata, file hashes)
and, for a context model, ``entropy.safetensors`` into one directory; pass that directory as
``weights`` with ``backend: onnxruntime``. ``--bundled`` rewrites the export that ships with
the package (``weights/onnx/codec``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..codec.bundled import MODEL, ONNX_DIR
from ..codec.errors import WeightsError
from ..codec.export_dir import DEFAULT_OPSET, MIN_OPSET
from .command import recorded


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="gan-compress-export", description=__doc__)
    p.add_argument("weights", nargs="?", default=None,
                   help="weights file or bundled name (default: the bundled default)")
    p.add_argument("--out", help="output directory (new, empty, or an earlier export)")
    p.add_argument("--bundled", action="store_true",
                   help=f"export the bundled model into {ONNX_DIR}/{MODEL}")
    p.add_argument("--half", action="store_true", help="also write fp16 models")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                   help=f"ONNX opset (default {DEFAULT_OPSET}; at least {MIN_OPSET})")
    args = p.parse_args(argv)
    if args.bundled == bool(args.out):
        p.error("give either --out DIR or --bundled")
    if args.bundled and args.weights:
        p.error("--bundled exports the bundled model: give no weights")
    if args.opset < MIN_OPSET:
        p.error(f"--opset must be at least {MIN_OPSET} (the torch.export-based exporter's "
                "lowest)")
    return args


def summary(out: Path, manifest: dict[str, Any]) -> str:
    """What was written: one line per model, with its measured distance to torch."""
    lines = [f"{out}: model {manifest['model_id']} ({manifest['preset']}) from "
             f"{manifest['source']['file']}, opset {manifest['opset']}, "
             f"{manifest['exported_with']['seconds']} s"]
    for entries in manifest["models"].values():
        for entry in entries.values():
            diff = entry["max_abs_difference_to_torch_fp32"]
            shown = "not checked (no onnxruntime)" if diff is None else f"{diff:.2e}"
            lines.append(f"  {entry['file']:<20} {entry['bytes'] / 1e6:6.2f} MB  "
                         f"max |onnxruntime - torch fp32| {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``gan-compress-export``."""
    args = parse_args(argv)
    try:
        from ..codec.nn.export import export
    except ImportError as exc:
        print(f"gan-compress-export needs torch and onnx ({exc}); install the package's "
              "[export] extra", file=sys.stderr)
        return 1
    command = recorded("gan-compress-export", sys.argv[1:] if argv is None else argv)
    jobs = ([(None, ONNX_DIR / MODEL)] if args.bundled else [(args.weights, Path(args.out))])
    for weights, out in jobs:
        try:
            manifest = export(weights, out, half=args.half, opset=args.opset, command=command)
        except (WeightsError, OSError) as exc:
            print(f"gan-compress-export: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # noqa: BLE001 - the exporter's many error types
            print(f"gan-compress-export: exporting {weights or 'the bundled default'} failed: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print(summary(out, manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
