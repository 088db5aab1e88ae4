"""The codec network: analysis transform, quantizer, entropy model, synthesis transform.

Two paths over one set of weights (as in CompressAI): ``forward`` is the differentiable
training path (noisy latent, likelihoods), while ``analyse``/``synthesise`` serve the real
bitstream in ``api.Codec``. The entropy model is the factorized prior (``compact``,
``paper``) or the context model with gain units (``compact2``); the gains are applied by the
caller at coding time (``api.Codec``), so the transforms themselves know no quality.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..context_coding import ContextModel
from ..presets import latent_shape, preset_config, uses_context
from ..tables import CdfTables
from .architectures import build_transforms
from .context_model import ContextEntropyModel, GainUnits
from .entropy import FactorizedPrior

NOISE_SEED = 20240601


def quantize(y: torch.Tensor, mode: str) -> torch.Tensor:
    """Quantize the latent ``y`` by ``mode``.

    ``noise``: additive U(-0.5, 0.5) (training); ``ste``: rounding with straight-through
    gradients; ``round``: plain rounding (inference).
    """
    if mode == "noise":
        return y + torch.empty_like(y).uniform_(-0.5, 0.5)
    if mode == "ste":
        return y + (torch.round(y) - y).detach()
    if mode == "round":
        return torch.round(y)
    raise ValueError(f"unknown quantization mode {mode!r}")


class CodecModel(nn.Module):
    """Generator of the GAN: encoder + quantizer + entropy model + decoder."""

    decoder_noise: torch.Tensor  # a buffer, saved with the weights

    def __init__(self, preset: str, config: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.preset = preset
        self.config = preset_config(preset, config)
        self.latent_shape = latent_shape(preset, self.config)
        self.encoder, self.decoder = build_transforms(preset, self.config)
        self.context = uses_context(self.config)
        self.gain: GainUnits | None = None
        # a ContextEntropyModel or a FactorizedPrior; self.context says which
        self.prior: Any
        if self.context:
            self.prior = ContextEntropyModel(self.latent_shape, self.config["slices"],
                                             bool(self.config["checkerboard"]),
                                             self.config["context_hidden"])
            if self.config["rate_levels"]:
                self.gain = GainUnits(self.latent_shape[0], self.config["rate_levels"])
        else:
            self.prior = FactorizedPrior(self.latent_shape[0])
        noise = self.config["noise_channels"]
        # The decoder's noise input (the paper's "noise level") is a fixed draw at inference,
        # stored with the weights, so decoding is deterministic.
        gen = torch.Generator().manual_seed(NOISE_SEED)
        fixed = torch.randn((1, noise, *self.latent_shape[1:]), generator=gen)
        self.register_buffer("decoder_noise", fixed)

    def analyse(self, x: torch.Tensor) -> torch.Tensor:
        """Latent ``y`` (N, C, 4, 4) of images ``x`` in [0, 1] (N, 3, 64, 64)."""
        return self.encoder(x)

    def synthesise(self, y_hat: torch.Tensor, fresh_noise: bool = False) -> torch.Tensor:
        """Reconstruction (N, 3, 64, 64), unclamped, from a quantized latent."""
        if self.config["noise_channels"]:
            if fresh_noise:
                noise = torch.randn((y_hat.shape[0], *self.decoder_noise.shape[1:]),
                                    device=y_hat.device, dtype=y_hat.dtype)
            else:
                noise = self.decoder_noise.expand(y_hat.shape[0], -1, -1, -1)
            y_hat = torch.cat([y_hat, noise.to(y_hat.dtype)], dim=1)
        return self.decoder(y_hat)

    @property
    def variable_rate(self) -> bool:
        """Whether one set of weights serves every quality (gain units)."""
        return self.gain is not None

    def forward(self, x: torch.Tensor, decoder_quant: str = "ste", fresh_noise: bool = False,
                qbytes: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Training path: reconstruction, likelihoods of the noisy latent, and the latent.

        ``qbytes`` (N,): quality bytes 0..255 of a variable-rate model (default 255). The
        returned ``y_hat`` is the synthesis input (the rounded latent times the inverse gain).
        """
        y = self.analyse(x)
        if not self.context:
            with torch.autocast(device_type=y.device.type, enabled=False):  # rate stays fp32
                likelihoods = self.prior.likelihood(quantize(y.float(), "noise"))
            y_hat = quantize(y, decoder_quant)
            return {"x_hat": self.synthesise(y_hat, fresh_noise), "likelihoods": likelihoods,
                    "y_hat": y_hat}
        if qbytes is None:
            qbytes = torch.full((x.shape[0],), 255, dtype=torch.long, device=x.device)
        with torch.autocast(device_type=y.device.type, enabled=False):  # rate stays fp32
            y = y.float()
            dec_gain = None
            if self.gain is not None:
                enc_gain, dec_gain = self.gain.gains(qbytes)
                y = y * enc_gain
            likelihoods = self.prior.likelihood(quantize(y, "noise"), quantize(y, "ste"),
                                                qbytes)
            y_hat = quantize(y, decoder_quant)
            if dec_gain is not None:
                y_hat = y_hat * dec_gain
        return {"x_hat": self.synthesise(y_hat, fresh_noise), "likelihoods": likelihoods,
                "y_hat": y_hat}

    def freeze_tables(self) -> CdfTables | ContextModel:
        """The integer entropy model of the current prior (call after training)."""
        if not self.context:
            return self.prior.freeze()
        if self.gain is not None:
            gain_enc, gain_dec = self.gain.tables()
        else:
            ones = torch.ones(256, self.latent_shape[0]).numpy()
            gain_enc, gain_dec = ones, ones
        return self.prior.freeze(gain_enc, gain_dec)
