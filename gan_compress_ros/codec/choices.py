"""Names users pass to choose how the codec runs (one place for each)."""

TORCH = "torch"
ONNXRUNTIME = "onnxruntime"
#: Values of ``backend``: ``auto`` takes torch where the weights and installed packages allow.
BACKENDS = ("auto", TORCH, ONNXRUNTIME)
#: Values of ``precision``.
PRECISIONS = ("fp32", "fp16")
