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

# A whole photo for the processing test: 1024 × 768, JPEG, about 60 plants.
from PIL import Image  # noqa: E402

image, boxes = photo(np.random.default_rng(4242), 768, 1024, 70)
Image.fromarray(image).save(os.path.join(OUT, "bench-photo.jpg"), quality=92)
json.dump({"width": 1024, "height": 768, "plants": len(boxes)}, open(os.path.join(OUT, "bench-photo.json"), "w"))
print(len(boxes), "plants in the photo")
