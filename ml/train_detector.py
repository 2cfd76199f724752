"""Trains photoml's plant detector on synthetic nursery photos and exports it as ONNX.

A developer step, never part of `make test` (see ml/README.md):
    python3 -m venv .dev/train
    .dev/train/bin/pip install "torch==2.13.0+cpu" "numpy<2.3" "onnx==1.17.0"
    .dev/train/bin/python ml/train_detector.py

Seeded: the same script makes the same data; torch's CPU kernels make the weights close to,
not bit-identical with, an earlier run. The model is anchor-free at stride 8 (one cell per
8 × 8 pixels predicts a plant centred in it: a score, the centre's offset, the box's size)
and emits the YOLOv8 detect layout, [batch, 4 + 1, cells] with centre x, centre y, width,
height in input pixels and a sigmoid score, so the service decodes it like any YOLOv8 model.
"""
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synthetic import photo  # noqa: E402

SEED = 20261207
STRIDE = 8
CROP = 256
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Services", "PhotoML", "Models")


def block(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PlantNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            block(3, 16, 2), block(16, 32, 2), block(32, 32, 1), block(32, 64, 2), block(64, 64, 1), block(64, 64, 1))
        self.head = nn.Conv2d(64, 5, 1)  # score, dx, dy, log w, log h

    def forward(self, images):
        return self.head(self.body(images / 255.0))


class Exported(nn.Module):
    """The trained net with its decoding: YOLOv8 detect layout."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, images):
        out = self.net(images)
        batch, _, rows, cols = out.shape
        ys = torch.arange(rows, dtype=out.dtype).view(1, rows, 1).expand(batch, rows, cols)
        xs = torch.arange(cols, dtype=out.dtype).view(1, 1, cols).expand(batch, rows, cols)
        cx = (xs + torch.sigmoid(out[:, 1])) * STRIDE
        cy = (ys + torch.sigmoid(out[:, 2])) * STRIDE
        w = torch.exp(out[:, 3].clamp(max=6)) * STRIDE
        h = torch.exp(out[:, 4].clamp(max=6)) * STRIDE
        score = torch.sigmoid(out[:, 0])
        return torch.stack([cx, cy, w, h, score], dim=1).reshape(batch, 5, rows * cols)


def targets(boxes, size):
    """Per cell: a Gaussian score peak at each plant's centre, and its box where it is centred."""
    cells = size // STRIDE
    heat = np.zeros((cells, cells), np.float32)
    box = np.zeros((4, cells, cells), np.float32)
    mask = np.zeros((cells, cells), np.float32)
    ys, xs = np.mgrid[0:cells, 0:cells]
    for x1, y1, x2, y2 in boxes:
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        gx, gy = int(cx // STRIDE), int(cy // STRIDE)
        if not (0 <= gx < cells and 0 <= gy < cells):
            continue
        sigma = max(0.5, min(w, h) / STRIDE / 4)
        heat = np.maximum(heat, np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * sigma**2)))
        box[:, gy, gx] = [cx / STRIDE - gx, cy / STRIDE - gy, np.log(w / STRIDE), np.log(h / STRIDE)]
        mask[gy, gx] = 1
    return heat, box, mask


def batch(rng, size, count):
    images, heats, boxes, masks = [], [], [], []
    for _ in range(count):
        image, found = photo(rng, size, size, int(rng.integers(8, 60)))
        heat, box, mask = targets(found, size)
        images.append(image.transpose(2, 0, 1))
        heats.append(heat)
        boxes.append(box)
        masks.append(mask)
    return (torch.tensor(np.stack(images), dtype=torch.float32), torch.tensor(np.stack(heats)), torch.tensor(np.stack(boxes)),
            torch.tensor(np.stack(masks)))


def loss_of(out, heat, box, mask):
    # Focal loss on the score map (CenterNet's), L1 on the box where a plant is centred.
    p = torch.sigmoid(out[:, 0]).clamp(1e-4, 1 - 1e-4)
    pos = heat.eq(1).float()
    focal = -(pos * (1 - p) ** 2 * torch.log(p) + (1 - pos) * (1 - heat) ** 4 * p**2 * torch.log(1 - p)).sum() / pos.sum().clamp(min=1)
    predicted = torch.stack([torch.sigmoid(out[:, 1]), torch.sigmoid(out[:, 2]), out[:, 3], out[:, 4]], dim=1)
    l1 = (torch.abs(predicted - box) * mask.unsqueeze(1)).sum() / mask.sum().clamp(min=1)
    return focal + l1


def detect(exported, image, threshold=0.3):
    """Detections of one tile, after keeping only local score maxima (no NMS needed)."""
    with torch.no_grad():
        out = exported(torch.tensor(image.transpose(2, 0, 1)[None], dtype=torch.float32))[0].numpy()
    cells = image.shape[0] // STRIDE
    scores = out[4].reshape(cells, -1)
    padded = np.pad(scores, 1)
    peak = np.ones_like(scores, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx or dy:
                peak &= scores >= padded[1 + dy:1 + dy + scores.shape[0], 1 + dx:1 + dx + scores.shape[1]]
    keep = (scores >= threshold) & peak
    cx, cy, w, h = (out[i].reshape(cells, -1)[keep] for i in range(4))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1), scores[keep]


def iou(a, b):
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter)


def evaluate(exported, seed, tiles=60, size=512):
    rng = np.random.default_rng(seed)
    true_positive = false_positive = false_negative = 0
    count_errors = []
    for _ in range(tiles):
        image, truth = photo(rng, size, size, int(rng.integers(10, 80)))
        boxes, _ = detect(exported, image)
        matched = np.zeros(len(truth), bool)
        for candidate in boxes:
            overlaps = iou(candidate, truth) if len(truth) else np.zeros(0)
            best = int(np.argmax(overlaps)) if len(overlaps) else -1
            if best >= 0 and overlaps[best] >= 0.5 and not matched[best]:
                matched[best] = True
                true_positive += 1
            else:
                false_positive += 1
        false_negative += int((~matched).sum())
        count_errors.append(abs(len(boxes) - len(truth)) / max(1, len(truth)))
    return {
        "tiles": tiles, "precision": true_positive / max(1, true_positive + false_positive),
        "recall": true_positive / max(1, true_positive + false_negative), "meanAbsoluteCountError": float(np.mean(count_errors)),
    }


def main():
    steps = int(os.environ.get("TRAIN_STEPS", "2500"))
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    net = PlantNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    started = time.time()
    for step in range(steps):
        images, heat, box, mask = batch(rng, CROP, 12)
        loss = loss_of(net(images), heat, box, mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step:5d}  loss {loss.item():.3f}  {time.time() - started:.0f} s", flush=True)
    net.eval()
    exported = Exported(net).eval()
    metrics = evaluate(exported, seed=SEED + 1)
    print("held-out:", json.dumps(metrics), flush=True)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "plants-v1.onnx")
    example = torch.zeros(1, 3, 512, 512)
    torch.onnx.export(
        exported, example, path, input_names=["images"], output_names=["output0"], opset_version=17,
        dynamic_axes={"images": {0: "batch", 2: "height", 3: "width"}, "output0": {0: "batch", 2: "cells"}}, dynamo=False)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    card = {
        "name": "plants", "version": "1", "sha256": digest, "classes": ["plant"], "inputSize": [512, 512], "stride": STRIDE,
        "layout": "yolov8-detect", "seed": SEED, "trainingSteps": steps, "trainingSeconds": round(time.time() - started),
        "heldOut": metrics,
    }
    json.dump(card, open(os.path.join(OUT, "plants-v1.json"), "w"), indent=2)
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
