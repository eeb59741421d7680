"""Throughput of the reobench chapter's hot paths, each beside a baseline measured in the same run.

Run: python bench/reobench.py [--quick] [--threads N]. Targets (from the chapter's brief, 64² images,
2 threads on an idle machine): every corruption ≥ 1,000 images/s; the whole 12 × 5 suite on 800 images
in < 60 s; the scene generator ≥ 1,000 images/s. Baselines: the same function called one image at a
time (batching gain), and for blur, motion blur and JPEG an independent per-image implementation
(scipy's Gaussian filter; the sum of 2r + 1 shifted copies; PIL's libjpeg encode + decode).
Wall and CPU seconds are both printed: on a busy machine the CPU rate is the steadier number.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from reprobook.reobench.corrupt import CORRUPTIONS, SEVERITY_TABLE, corrupt, motion_offsets
from reprobook.reobench.synth import generate_scenes


def timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def shifted_sum_motion_blur(images: torch.Tensor, radius: int, sigma: float, angles: torch.Tensor) -> torch.Tensor:
    """The prototype's approach: one edge-clamped shifted copy per tap, accumulated (2r + 1 passes)."""
    weights, dx, dy = motion_offsets(radius, sigma, angles)
    reach = 2 * radius
    padded = torch.nn.functional.pad(images, (reach, reach, reach, reach), mode="replicate")
    height, width = images.shape[2:]
    out = torch.zeros_like(images)
    for index, image in enumerate(padded):
        for tap, weight in enumerate(weights.tolist()):
            x, y = int(dx[index, tap]), int(dy[index, tap])
            out[index] += weight * image[:, reach - y:reach - y + height, reach - x:reach - x + width]
    return out


def scipy_blur(images: torch.Tensor, sigma: float) -> np.ndarray:
    array = images.numpy()
    return np.stack([[ndimage.gaussian_filter(channel, sigma, mode="nearest", truncate=4.0) for channel in image]
                     for image in array])


def pil_jpeg(images: torch.Tensor, quality: int) -> list[np.ndarray]:
    out = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(np.round(image.permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(
            buffer, "JPEG", quality=quality)
        buffer.seek(0)
        out.append(np.asarray(Image.open(buffer)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 images and a shorter per-image baseline")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (targets assume 2 on an idle machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n = 256 if args.quick else 800
    n_loop = 32 if args.quick else 64
    generate_scenes(18, seed=0)  # warm-up
    scenes, wall, cpu = timed(generate_scenes, n, seed=1)
    rate = n / wall
    print(f"threads: {args.threads}; images: {n} at 64²")
    print(f"scene generator: {rate:,.0f} images/s wall ({n / cpu:,.0f} per CPU-s); target ≥ 1,000: "
          f"{'met' if rate >= 1000 else 'MISSED'}")
    images = scenes.images
    print(f"{'corruption (severity 5)':<24} {'batched img/s':>14} {'per CPU-s':>10} {'one-by-one img/s':>17} {'ratio':>7}  target")
    for name in CORRUPTIONS:
        corrupt(images[:8], name, 5, generator=0)
        _, wall, cpu = timed(corrupt, images, name, 5, generator=0)
        _, loop_wall, _ = timed(lambda name=name: [corrupt(images[i:i + 1], name, 5, generator=i) for i in range(n_loop)])
        batched, single = n / wall, n_loop / loop_wall
        print(f"{name:<24} {batched:>14,.0f} {n / cpu:>10,.0f} {single:>17,.0f} {batched / single:>6.1f}×  "
              f"{'met' if batched >= 1000 else 'MISSED'}")

    sigma = SEVERITY_TABLE["gaussian_blur"][4]
    _, wall, _ = timed(corrupt, images, "gaussian_blur", 5)
    _, base, _ = timed(scipy_blur, images[:n_loop], sigma)
    print(f"gaussian blur σ = {sigma}: ours {n / wall:,.0f} img/s vs scipy.ndimage per image "
          f"{n_loop / base:,.0f} img/s; ratio {(n / wall) / (n_loop / base):.1f}×")
    radius, spread = SEVERITY_TABLE["motion_blur"][4]
    angles = torch.linspace(-0.7, 0.7, n)
    from reprobook.reobench.corrupt import motion_blur_with

    ours, wall, _ = timed(motion_blur_with, images, radius, spread, angles)
    shifted, base, _ = timed(shifted_sum_motion_blur, images[:n_loop], radius, spread, angles[:n_loop])
    gap = float((ours[:n_loop] - shifted.clamp(0, 1)).abs().max())
    print(f"motion blur r = {radius}: FFT line kernel {n / wall:,.0f} img/s vs {2 * radius + 1} shifted copies "
          f"{n_loop / base:,.0f} img/s; ratio {(n / wall) / (n_loop / base):.1f}× (max |difference| {gap:.1e})")
    quality = SEVERITY_TABLE["compression_artifacts"][4]
    _, wall, _ = timed(corrupt, images, "compression_artifacts", 5)
    _, base, _ = timed(pil_jpeg, images[:n_loop], quality)
    print(f"JPEG q = {quality}: batched torch {n / wall:,.0f} img/s vs PIL encode + decode per image "
          f"{n_loop / base:,.0f} img/s; ratio {(n / wall) / (n_loop / base):.1f}×")

    def whole_suite():
        for name in CORRUPTIONS:
            for severity in range(1, 6):
                corrupt(images, name, severity, generator=severity)

    _, wall, cpu = timed(whole_suite)
    print(f"whole suite, 12 × 5 on {n} images: {wall:.1f} s wall ({cpu:.1f} s CPU); target < 60 s"
          f"{' (for 800 images)' if n != 800 else ''}: {'met' if wall < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
