"""Synthetic nursery photos: plants of several sizes on soil or in trays, with perspective,
occlusion and uneven light. Seeded, so a set can be made again exactly. Boxes are
[x1, y1, x2, y2] in pixels, class 0 ("plant")."""
import numpy as np


def soil(rng, height, width):
    base = np.array([rng.uniform(70, 120), rng.uniform(50, 85), rng.uniform(30, 60)])
    noise = rng.normal(0, 12, (height, width, 1)) + rng.normal(0, 6, (height, width, 3))
    image = base + noise
    if rng.random() < 0.5:  # tray grid lines
        step = int(rng.uniform(40, 90))
        image[::step, :, :] = base * 0.45
        image[:, ::step, :] = base * 0.45
    return image


def plant(rng, image, owner, index, cx, cy, radius):
    """A rosette of leaf ellipses around (cx, cy), greens of one hue; `owner` marks its pixels."""
    height, width, _ = image.shape
    green = np.array([rng.uniform(30, 90), rng.uniform(110, 200), rng.uniform(25, 80)])
    leaves = int(rng.integers(5, 9))
    x0, x1 = max(0, int(cx - radius - 2)), min(width, int(cx + radius + 3))
    y0, y1 = max(0, int(cy - radius - 2)), min(height, int(cy + radius + 3))
    if x1 <= x0 or y1 <= y0:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1]
    mask = np.zeros(ys.shape, dtype=bool)
    for leaf in range(leaves):
        angle = 2 * np.pi * leaf / leaves + rng.uniform(-0.3, 0.3)
        length = radius * rng.uniform(0.55, 0.95)
        lx, ly = cx + np.cos(angle) * length / 2, cy + np.sin(angle) * length / 2
        a, b = length / 2, length * rng.uniform(0.18, 0.32)
        dx, dy = xs - lx, ys - ly
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        mask |= (u / a) ** 2 + (v / b) ** 2 <= 1
    mask |= (xs - cx) ** 2 + (ys - cy) ** 2 <= (radius * 0.22) ** 2
    if not mask.any():
        return None
    shade = 1 + rng.normal(0, 0.08, mask.sum())[:, None]
    region = image[y0:y1, x0:x1]
    region[mask] = green * shade
    owner[y0:y1, x0:x1][mask] = index
    found_y, found_x = np.nonzero(mask)
    return [x0 + found_x.min(), y0 + found_y.min(), x0 + found_x.max() + 1, y0 + found_y.max() + 1], int(mask.sum())


def photo(rng, height, width, plants, size_range=(20, 60), perspective=True):
    """A photo with about `plants` plants; sizes shrink toward the top when `perspective`."""
    image = soil(rng, height, width)
    owner = np.full((height, width), -1, dtype=np.int32)
    drawn = []
    for index in range(plants):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        scale = 0.55 + 0.45 * cy / height if perspective else 1.0
        radius = rng.uniform(*size_range) / 2 * scale
        result = plant(rng, image, owner, index, cx, cy, radius)
        if result is not None:
            drawn.append((index, *result))
    # A plant mostly hidden under later ones is no longer one to count.
    visible = np.bincount(owner[owner >= 0].ravel(), minlength=plants)
    boxes = [box for index, box, area in drawn if visible[index] >= 0.3 * area]
    # Uneven light: a gradient and a soft spot.
    gy, gx = np.mgrid[0:height, 0:width]
    light = 1 + rng.uniform(-0.25, 0.25) * (gx / width - 0.5) + rng.uniform(-0.25, 0.25) * (gy / height - 0.5)
    image = image * light[..., None]
    return np.clip(image, 0, 255).astype(np.uint8), np.array(boxes, dtype=np.float32).reshape(-1, 4)
