"""The reference for the photoml service's SAHI parity test: reads cases as JSON on stdin,
answers what the PyPI `sahi` package makes of them on stdout.

  {"slices": [{"width": W, "height": H, "tile": [w, h], "overlap": [ow, oh]}],
   "merges": [{"strategy": "greedyNMM" | "nms", "metric": "ios" | "iou", "threshold": t,
               "classAgnostic": bool, "detections": [[x1, y1, x2, y2, score, class], ...]}]}
→ {"slices": [[[x1, y1, x2, y2], ...]], "merges": [[[x1, y1, x2, y2, score, class], ...]]}
"""
import json
import sys

from sahi.postprocess.combine import GreedyNMMPostprocess, NMSPostprocess
from sahi.prediction import ObjectPrediction
from sahi.slicing import get_slice_bboxes

cases = json.load(sys.stdin)
slices = [
    get_slice_bboxes(
        image_height=case["height"], image_width=case["width"], slice_height=case["tile"][1], slice_width=case["tile"][0],
        overlap_height_ratio=case["overlap"][1], overlap_width_ratio=case["overlap"][0])
    for case in cases["slices"]
]
merges = []
for case in cases["merges"]:
    kind = GreedyNMMPostprocess if case["strategy"] == "greedyNMM" else NMSPostprocess
    postprocess = kind(match_threshold=case["threshold"], match_metric=case["metric"].upper(), class_agnostic=case["classAgnostic"])
    predictions = [
        ObjectPrediction(bbox=d[:4], category_id=int(d[5]), category_name=str(int(d[5])), score=d[4], shift_amount=[0, 0])
        for d in case["detections"]
    ]
    merged = postprocess(predictions)
    merges.append([[*(float(v) for v in p.bbox.to_xyxy()), float(p.score.value), int(p.category.id)] for p in merged])
json.dump({"slices": [[[int(v) for v in tile] for tile in case] for case in slices], "merges": merges}, sys.stdout)
