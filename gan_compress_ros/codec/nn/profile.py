"""Size of a codec: parameters and multiply-adds per 64x64 frame (for Jetson budgets)."""

from __future__ import annotations

import torch
from torch import nn

from .model import CodecModel


def _layer_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...],
                output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1]
        return output.numel() * (module.in_channels // module.groups) * k
    if isinstance(module, nn.ConvTranspose2d):  # each input pixel scatters a kernel
        k = module.kernel_size[0] * module.kernel_size[1]
        return inputs[0].numel() * (module.out_channels // module.groups) * k
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return 0


def count_macs(module: nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of convolution and linear layers in ``module(x)`` (batch of one)."""
    total = 0

    def hook(mod: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        total += _layer_macs(mod, inputs, output)

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    return total


def profile(model: CodecModel) -> dict[str, int]:
    """Parameters and multiply-adds of encoder and decoder for one 64x64 frame."""
    model = model.eval()
    x = torch.zeros(1, 3, 64, 64)
    y = model.analyse(x)
    decoder_in = y
    if model.config["noise_channels"]:
        decoder_in = torch.cat([y, model.decoder_noise], dim=1)
    return {
        "encoder_params": sum(p.numel() for p in model.encoder.parameters()),
        "decoder_params": sum(p.numel() for p in model.decoder.parameters()),
        "prior_params": sum(p.numel() for p in model.prior.parameters()),
        "encoder_macs": count_macs(model.encoder, x),
        "decoder_macs": count_macs(model.decoder, decoder_in),
        "latent_values": int(y[0].numel()),
    }
