"""Refuge's benchmarks: each measures a figure and its baseline in the same run (`make bench`)."""
