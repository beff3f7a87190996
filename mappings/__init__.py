"""The Mart catalog (source side) and the Source→Interface mapping rules."""
