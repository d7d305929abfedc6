"""Thai text handling: normalization, tokenization, chunking and sentence encoders."""
