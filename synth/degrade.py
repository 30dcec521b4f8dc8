"""Image degradations and geometry shared by the renderers: paper, lighting, camera, scanner.

Every function takes the sample's ``numpy.random.Generator`` so results depend only on the
seed. Geometric helpers return the matrix so polygons can follow the pixels exactly.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.imaging import to_gray


def smooth_noise(h: int, w: int, rng: np.random.Generator, cells: int = 6) -> np.ndarray:
    """Low-frequency noise in [-1, 1] of shape (h, w) (stains, uneven paper, shadows)."""
    gh = max(2, int(round(cells * h / max(h, w))) + 1)
    gw = max(2, int(round(cells * w / max(h, w))) + 1)
    grid = rng.uniform(-1, 1, (gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC).clip(-1, 1)


def _wave(n: int, step: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth random curve in [-1, 1] over ``n`` samples, one random knot every ``step``."""
    knots = max(2, int(np.ceil(n / max(step, 1.0))) + 2)
    grid = rng.uniform(-1, 1, (1, knots)).astype(np.float32)
    return cv2.resize(grid, (n, 1), interpolation=cv2.INTER_CUBIC)[0].clip(-1, 1)


def hand_warp(mask: np.ndarray, size: int, rng: np.random.Generator,
              strength: float = 1.0) -> np.ndarray:
    """Handwriting variation a font lacks, drawn on its ink mask (uint8 alpha).

    A baseline that drifts along the line, letters that sit higher or lower, grow or shrink
    and shift sideways one by one (knots about a letter apart), a small elastic wobble of the
    strokes, and pen pressure that varies along them. ``size`` is the font size in pixels;
    ``strength`` scales every amplitude. The result is taller by the drift's margins.
    """
    h0, w = mask.shape
    s = float(size) * strength
    drift = rng.uniform(0.0, 0.10) * s       # baseline drift over the whole line
    bob = rng.uniform(0.0, 0.06) * s         # letters up and down
    grow = rng.uniform(0.0, 0.12) * strength  # letter height, relative
    shift = rng.uniform(0.0, 0.06) * s       # letters sideways
    pad = int(np.ceil(drift + bob + grow * h0 / 2)) + 1
    src = cv2.copyMakeBorder(mask, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=0)
    h = h0 + 2 * pad
    letter = max(4.0, 0.5 * size)
    dy = drift * _wave(w, rng.uniform(3, 8) * letter, rng) + bob * _wave(w, letter, rng)
    scale = 1.0 + grow * _wave(w, letter, rng)
    dx = shift * _wave(w, letter, rng)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = h / 2.0
    map_y = centre + (ys - centre - dy[None, :]) / scale[None, :]
    map_x = xs + dx[None, :]
    wobble = 0.02 * s
    if wobble > 0.3:
        map_x += wobble * smooth_noise(h, w, rng, cells=max(2, int(w / letter)))
        map_y += wobble * smooth_noise(h, w, rng, cells=max(2, int(w / letter)))
    out = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=0)
    if rng.random() < 0.6:  # pressure: lighter and darker stretches of the stroke
        pressure = 1.0 - rng.uniform(0.1, 0.45) * (0.5 + 0.5 * smooth_noise(
            h, w, rng, cells=max(2, int(w / (2 * letter)))))
        out = (out.astype(np.float32) * pressure).astype(np.uint8)
    return out if (out > 0).any() else mask


def paper(h: int, w: int, rng: np.random.Generator, color: tuple[int, int, int] | None = None,
          texture: float = 1.0) -> np.ndarray:
    """A paper-like RGB background: a tint, blotchy low-frequency shading and fine grain."""
    if color is None:
        base = rng.uniform(225, 255)
        tint = rng.uniform(-8, 8, 3)
        color = tuple(np.clip(base + tint, 0, 255))
    img = np.empty((h, w, 3), np.float32)
    img[:] = np.asarray(color, np.float32)
    blotch = smooth_noise(h, w, rng, cells=int(rng.integers(3, 10))) * rng.uniform(2, 10) * texture
    img += blotch[..., None]
    grain = np.float32(rng.uniform(0.5, 3) * texture)
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * grain
    return np.clip(img, 0, 255).astype(np.uint8)


def ink_color(rng: np.random.Generator, handwriting: bool = False) -> np.ndarray:
    """A plausible ink colour: black/grey for print; also blue, violet for pens."""
    if handwriting and rng.random() < 0.7:
        blue = np.array([rng.uniform(10, 60), rng.uniform(20, 70), rng.uniform(110, 200)])
        if rng.random() < 0.2:  # violet
            blue[0] += 60
        return blue.astype(np.float32)
    g = rng.uniform(0, 70)
    return np.array([g, g, g], np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)


def composite(background: np.ndarray, alpha: np.ndarray, color: np.ndarray,
              x: int = 0, y: int = 0) -> None:
    """Blend ``color`` through ``alpha`` (uint8 mask) into ``background`` at (x, y), in place.

    Parts of the mask outside the background are clipped.
    """
    h, w = alpha.shape
    H, W = background.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)[..., None] / 255.0
    region = background[y0:y1, x0:x1].astype(np.float32)
    background[y0:y1, x0:x1] = (region * (1 - a) + color * a).astype(np.uint8)


def shading(img: np.ndarray, rng: np.random.Generator, strength: float = 0.25) -> np.ndarray:
    """Uneven photo lighting: a linear gradient times a vignette, plus a colour cast."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    lin = (np.cos(angle) * (xs / w - 0.5) + np.sin(angle) * (ys / h - 0.5))
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    r = np.sqrt(((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2)
    gain = 1 - strength * rng.uniform(0.3, 1) * (lin + 0.5) - strength * rng.uniform(0, 0.8) * r
    gain = gain * rng.uniform(0.85, 1.05)
    cast = 1 + rng.uniform(-0.06, 0.06, 3).astype(np.float32)
    out = img.astype(np.float32) * gain[..., None] * cast
    return np.clip(out, 0, 255).astype(np.uint8)


def gaussian_noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return img
    noise = rng.standard_normal(img.shape[:2] + (1,), dtype=np.float32) * np.float32(sigma)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.2:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigma)


def motion_blur(img: np.ndarray, rng: np.random.Generator, length: int) -> np.ndarray:
    if length < 2:
        return img
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    k = cv2.warpAffine(k, rot, (length, length))
    k /= max(k.sum(), 1e-6)
    return cv2.filter2D(img, -1, k)


def bilevel(img: np.ndarray) -> np.ndarray:
    """A 1-bit scan of an RGB image: Otsu-thresholded to pure black and white, RGB."""
    gray = to_gray(img)
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return np.repeat(bw[:, :, None], 3, axis=2)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through JPEG at ``quality`` (blocking and ringing artefacts)."""
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        return img
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def perspective_matrix(w: int, h: int, rng: np.random.Generator, strength: float,
                       rotate_deg: float = 0.0, margin: float = 0.0) -> tuple[np.ndarray, int, int]:
    """A random camera-like homography of a (w, h) image, and the output size it fits in.

    Args:
        strength: corner jitter as a fraction of the image size.
        rotate_deg: extra in-plane rotation.
        margin: extra border around the warped image, as a fraction of its size.

    Returns:
        (3x3 matrix, out_w, out_h); the warped image lies fully inside (out_w, out_h).
    """
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(-strength, strength, (4, 2)) * np.array([w, h])
    dst = src + jitter.astype(np.float32)
    if rotate_deg:
        c = dst.mean(0)
        t = np.deg2rad(rotate_deg)
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], np.float32)
        dst = (dst - c) @ rot.T + c
    lo = dst.min(0)
    hi = dst.max(0)
    pad = margin * np.array([w, h])
    dst = dst - lo + pad
    out_w, out_h = (hi - lo + 2 * pad).round().astype(int)
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return m, int(out_w), int(out_h)


def warp_points(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to (N, 2) points."""
    pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, m.astype(np.float64)).reshape(-1, 2)


def rotation_matrix(w: int, h: int, degrees: float) -> tuple[np.ndarray, int, int]:
    """Rotation about the centre with the canvas grown to fit; returns (3x3, out_w, out_h)."""
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
    out_w = int(np.ceil(h * sin + w * cos))
    out_h = int(np.ceil(h * cos + w * sin))
    rot[0, 2] += out_w / 2 - w / 2
    rot[1, 2] += out_h / 2 - h / 2
    return np.vstack([rot, [0, 0, 1]]), out_w, out_h
