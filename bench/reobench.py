"""Throughput of the reobench chapter's hot paths, each beside a baseline measured in the same run.

Run: python bench/reobench.py [--quick] [--threads N] [--table reobench|imagenet_c]. Targets (from the
chapter's brief, 64² images, 2 threads on an idle machine): every corruption ≥ 1,000 images/s; the whole
12 × 5 suite on 800 images in < 60 s; the scene generator ≥ 1,000 images/s. Baselines, per image as the
reference tools are used: for the ``reobench`` table the operations of REOBench's generator (OpenCV's
``GaussianBlur`` and ``filter2D``, PIL's JPEG, numpy arithmetic); for the ``imagenet_c`` table the
ImageNet-C package (``imagecorruptions-imaug``). Every baseline is called once before it is timed (PIL and
OpenCV are warm). Corruptions without a reference tool fall back to our own function one image at a
time (the batching gain only). Wall and CPU seconds are both printed: on a busy machine the CPU rate is
the steadier number.
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
from reprobook.reobench.official import REOBENCH_TABLE
from reprobook.reobench.synth import generate_scenes

#: ImageNet-C names of the corruptions that ImageNet-C also has
IMAGENET_C_NAMES = {"gaussian_noise": "gaussian_noise", "salt_and_pepper_noise": "impulse_noise",
                    "gaussian_blur": "gaussian_blur", "motion_blur": "motion_blur", "brightness_contrast": "contrast",
                    "compression_artifacts": "jpeg_compression"}


def uint8_images(images: torch.Tensor) -> list[np.ndarray]:
    return [np.round(image.permute(1, 2, 0).numpy() * 255).astype(np.uint8) for image in images]


def reobench_reference(name: str, severity: int):
    """A per-image function doing what REOBench's generator does with its tools, or None."""
    try:
        import cv2
    except ImportError:  # the reobench extra's imagecorruptions-imaug brings OpenCV
        return None
    if name == "gaussian_blur":
        size = REOBENCH_TABLE[name][severity - 1]
        return lambda image: (np.clip(cv2.GaussianBlur(image.astype(np.float32) / 255, (size, size), 0), 0, 1)
                              * 255).astype(np.uint8)
    if name == "motion_blur":
        size = REOBENCH_TABLE[name][severity - 1]
        kernel = np.zeros((size, size), np.float32)
        kernel[(size - 1) // 2] = 1 / size
        return lambda image: (np.clip(cv2.filter2D(image.astype(np.float32) / 255, -1, kernel), 0, 1)
                              * 255).astype(np.uint8)
    if name == "compression_artifacts":
        quality = REOBENCH_TABLE[name][severity - 1]
        return lambda image: pil_round_trip(image, quality)
    if name == "brightness_contrast":
        contrast, brightness = REOBENCH_TABLE[name][severity - 1]
        return lambda image: (np.clip(image.astype(np.float32) / 255 * contrast + brightness, 0, 1)
                              * 255).astype(np.uint8)
    return None


def imagenet_c_reference(name: str, severity: int):
    """The ImageNet-C package's function for ``name``, per uint8 image, or None."""
    if name not in IMAGENET_C_NAMES:
        return None
    try:
        from imagecorruptions import corrupt as imagenet_c_corrupt
    except ImportError:
        return None
    return lambda image: imagenet_c_corrupt(image, corruption_name=IMAGENET_C_NAMES[name], severity=severity)


def pil_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer))


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
    parser.add_argument("--table", choices=("reobench", "imagenet_c"), default="reobench",
                        help="severity settings to time (and which reference tools to compare with)")
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
    as_uint8 = uint8_images(images[:n_loop])
    reference_of = reobench_reference if args.table == "reobench" else imagenet_c_reference
    print(f"{'corruption (severity 5)':<24} {'batched img/s':>14} {'per CPU-s':>10} {'baseline img/s':>15} "
          f"{'ratio':>7}  baseline; target")
    for name in CORRUPTIONS:
        corrupt(images[:8], name, 5, generator=0, table=args.table)
        _, wall, cpu = timed(corrupt, images, name, 5, generator=0, table=args.table)
        reference = reference_of(name, 5)
        if reference is not None:
            reference(as_uint8[0])  # warm: first calls load codecs and compile
            _, loop_wall, _ = timed(lambda reference=reference: [reference(image) for image in as_uint8])
            label = "OpenCV/PIL/numpy per image" if args.table == "reobench" else "ImageNet-C package per image"
        else:
            _, loop_wall, _ = timed(lambda name=name: [corrupt(images[i:i + 1], name, 5, generator=i, table=args.table)
                                                       for i in range(n_loop)])
            label = "ours one by one"
        batched, single = n / wall, n_loop / loop_wall
        print(f"{name:<24} {batched:>14,.0f} {n / cpu:>10,.0f} {single:>15,.0f} {batched / single:>6.1f}×  "
              f"{label}; {'met' if batched >= 1000 else 'MISSED'}")

    if args.table != "imagenet_c":
        whole_suite_and_exit(images, n, args.table)
        return
    sigma = SEVERITY_TABLE["gaussian_blur"][4]
    _, wall, _ = timed(corrupt, images, "gaussian_blur", 5, table="imagenet_c")
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
    _, wall, _ = timed(corrupt, images, "compression_artifacts", 5, table="imagenet_c")
    pil_jpeg(images[:2], quality)  # warm
    _, base, _ = timed(pil_jpeg, images[:n_loop], quality)
    print(f"JPEG q = {quality}: batched torch {n / wall:,.0f} img/s vs PIL encode + decode per image (warm) "
          f"{n_loop / base:,.0f} img/s; ratio {(n / wall) / (n_loop / base):.1f}×")
    whole_suite_and_exit(images, n, args.table)


def whole_suite_and_exit(images: torch.Tensor, n: int, table: str) -> None:
    def whole_suite():
        for name in CORRUPTIONS:
            for severity in range(1, 6):
                corrupt(images, name, severity, generator=severity, table=table)

    _, wall, cpu = timed(whole_suite)
    print(f"whole suite, 12 × 5 on {n} images: {wall:.1f} s wall ({cpu:.1f} s CPU); target < 60 s"
          f"{' (for 800 images)' if n != 800 else ''}: {'met' if wall < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
