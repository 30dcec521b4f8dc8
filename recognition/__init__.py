"""Text recognition: joint CTC + Transformer on ConvNeXt, and a CRNN for plates."""
