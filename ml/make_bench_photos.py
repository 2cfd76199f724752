"""Writes make bench-photoml's photos into .dev/bench/photoml: 12 MP synthetic nursery
photos (4000 × 3000, about 500 plants of 20–60 px) as JPEG, each with its plant count
(truth.json) and its plants' boxes (photo-N.boxes.json, x1 y1 x2 y2 in pixels) for recall
and precision. Seeded apart from the training and the tests."""
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic import photo  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".dev", "bench", "photoml")
os.makedirs(OUT, exist_ok=True)
count = int(sys.argv[1]) if len(sys.argv) > 1 else 4
truth = {}
for index in range(count):
    name = f"photo-{index}.jpg"
    boxes_file = os.path.join(OUT, f"photo-{index}.boxes.json")
    if not os.path.exists(os.path.join(OUT, name)) or not os.path.exists(boxes_file):
        image, boxes = photo(np.random.default_rng(9000 + index), 3000, 4000, 560)
        Image.fromarray(image).save(os.path.join(OUT, name), quality=90)
        json.dump([[round(float(v), 1) for v in box] for box in boxes], open(boxes_file, "w"))
        truth[name] = len(boxes)
        print(name, len(boxes), "plants", flush=True)
    else:
        truth[name] = json.load(open(os.path.join(OUT, "truth.json")))[name]
json.dump(truth, open(os.path.join(OUT, "truth.json"), "w"))
