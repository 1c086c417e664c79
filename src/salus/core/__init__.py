"""The pure core of Salus: no I/O, no clock, no randomness, no environment access."""
