"""The codec's PyTorch side: networks, training-time entropy models, weights I/O, export.

Only the torch backend (``Codec.load(backend="torch")``), training and the exporter load
this package; the runtime a robot needs (``codec/`` without ``nn/``) is NumPy, the range
coder and ONNX Runtime.
"""
