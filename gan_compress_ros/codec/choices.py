"""Names users pass to choose how the codec runs (one place for each)."""

TORCH = "torch"
ONNXRUNTIME = "onnxruntime"
#: Values of ``backend``: ``auto`` takes torch where the weights and installed packages allow.
BACKENDS = ("auto", TORCH, ONNXRUNTIME)
#: Values of ``precision``.
PRECISIONS = ("fp32", "fp16")
#: Highest encoder effort (``Codec.encode(effort=...)``); 0 is the single pass, real time.
MAX_EFFORT = 9


def check_effort(effort: object) -> int:
    """``effort`` as an int in 0..MAX_EFFORT; ValueError otherwise."""
    if isinstance(effort, bool) or not hasattr(effort, "__index__") or \
            not 0 <= int(effort) <= MAX_EFFORT:
        raise ValueError(f"effort={effort!r} must be an integer in 0..{MAX_EFFORT} "
                         "(0: single pass, real time; higher: the encoder searches longer "
                         "for cheaper latents)")
    return int(effort)
