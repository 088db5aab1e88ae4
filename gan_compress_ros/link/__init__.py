"""Latent payloads over links that cannot carry DDS: framing, serial and UDP transports."""
