"""Frontends: one package per source framework; each turns model files into a mo Graph."""
