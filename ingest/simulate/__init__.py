"""The o2c simulator: a landing folder in the exact source formats, with its ground truth.

`python -m ingest.simulate --orders N --days D --seed S --out DIR [--clean]`, or
`simulate(SimConfig(...))`. Modules: `formats` (text of each record), `landing` (streaming
writer), `catalog` (reference data), `generator` (order lifecycles), `anomalies` (which
exception goes where), `invalid` (invalid records), `reader` + `oracle` (ground truth, read
back from the files), `truth` (ground-truth files), `simulation` (one run).
"""
from .simulation import SimConfig, simulate

__all__ = ["SimConfig", "simulate"]
