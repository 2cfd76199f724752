"""Writes the photoml tests' fixture: one synthetic 256 × 256 tile (raw RGB bytes, row by
row) and its plants' boxes, from a seed the training never used."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic import photo  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "PhotoMLTests", "Models")
image, boxes = photo(np.random.default_rng(777), 256, 256, 24)
open(os.path.join(OUT, "plants-tile.rgb"), "wb").write(image.tobytes())
json.dump({"width": 256, "height": 256, "boxes": boxes.round(1).tolist()}, open(os.path.join(OUT, "plants-tile.json"), "w"))
print(len(boxes), "plants")
