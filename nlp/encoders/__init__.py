"""Sentence encoders behind one small interface; pick one with :func:`get_encoder`."""
from planalign.nlp.encoders.base import Encoder, EncoderError
from planalign.nlp.encoders.factory import ENCODER_NAMES, get_encoder

__all__ = ["ENCODER_NAMES", "Encoder", "EncoderError", "get_encoder"]
