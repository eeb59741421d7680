"""Throughput of the reobench chapter's corruptions against the ImageNet-C package, per image, interleaved.

Run: ``python bench/reobench.py [--quick] [--threads N]``. For each of the 12 corruptions at severity 5 on
64² scenes, :func:`reprobook.benchmark.compare` times, interleaved over several rounds after a warm-up call
(PIL's codec, OpenCV and numba are warm when timed):

* the reference, per image as its users call it: the ImageNet-C package (``imagecorruptions-imaug``,
  ``corrupt(image, corruption_name=…, severity=…)`` on uint8 HWC images) where ImageNet-C has the
  corruption, with our ImageNet-C-style settings (the same constants); ``fog`` (plasma fractal) for our
  fractal-noise clouds; for haze, data gaps and the geometric corruptions, which ImageNet-C lacks, the numpy
  or OpenCV operation REOBench's generator uses (``x(1 − i) + i``, a stripe mask, ``cv2.warpAffine``) with
  REOBench's settings;
* ours, batched: uint8 images to a float tensor, :func:`reprobook.reobench.corrupt`, back to uint8
  (the conversions are part of the timed work).

Target (the chapter's issue): ≥ 10× the reference per image. Where we are not, the printed note says why.
Also timed: the scene generator (target ≥ 1,000 images/s) and the whole 12 × 5 suite (target < 60 s for 800
images); they have no outside reference, so their line reports the rate against the target. Records go to
``bench/records/reobench.json`` (not in ``--quick`` mode).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import numpy as np
import torch

from reprobook.benchmark import BenchResult, compare, quick_mode, write_record
from reprobook.reobench.corrupt import CORRUPTIONS, corrupt
from reprobook.reobench.official import REOBENCH_TABLE, gap_mask
from reprobook.reobench.synth import generate_scenes

SEVERITY = 5
TARGET = 10.0
#: ImageNet-C's name for each corruption it shares with us (``fog``: the nearest fractal-noise corruption)
IMAGENET_C_NAMES = {"gaussian_noise": "gaussian_noise", "salt_and_pepper_noise": "impulse_noise",
                    "gaussian_blur": "gaussian_blur", "motion_blur": "motion_blur", "brightness_contrast": "contrast",
                    "compression_artifacts": "jpeg_compression", "clouds": "fog"}
#: why a comparison that misses the target misses it (printed beside the measured ratio)
WHY_SLOWER = {
    "compression_artifacts": "PIL's libjpeg codes one 64² image in C, with integer DCTs, in tens of "
                             "microseconds; our batched float DCT does the same arithmetic per block with "
                             "torch matmuls and pays per-op overhead on small planes, so batching buys little "
                             "(a single 64 × 64 Kronecker-product DCT for all blocks was tried: 1.1-1.3× faster, "
                             "but rounding ties moved some pixels by up to 10 grey levels, so it was not taken)",
    "haze": "two flops per pixel: the reference runs one numpy expression on one 48 KB image that stays in cache; "
            "ours runs the same expression in place on the whole batch (12 MB at 256 images) plus the uint8/float "
            "conversions, so memory traffic, not arithmetic, sets both rates and batching cannot win",
    "data_gaps": "the reference reuses one precomputed stripe mask for every image; ours draws an angle per image "
                 "and builds each image's mask (a float64 coordinate pass per image), the work the corruption "
                 "defines",
    "rotate": "OpenCV's warpAffine is a fixed-point SIMD loop over one uint8 image in cache; ours reads four "
              "bilinear weights per pixel from a cached sparse matrix per distinct transform (about 1.5-2× torch's "
              "grid_sample, equal to it within 1e-5) on float batches that do not fit in cache",
    "scale": "as for rotate: OpenCV's fixed-point warpAffine per image against our cached sparse warp on float batches",
    "translate": "as for rotate: OpenCV's fixed-point warpAffine per image against our cached sparse warp on float "
                 "batches",
}


def imagenet_c_reference(name: str) -> Callable[[np.ndarray], np.ndarray]:
    from imagecorruptions import corrupt as imagenet_c_corrupt

    return lambda image: imagenet_c_corrupt(image, corruption_name=IMAGENET_C_NAMES[name], severity=SEVERITY)


def reobench_reference(name: str, size: int) -> Callable[[np.ndarray], np.ndarray]:
    """What REOBench's generator does for one uint8 image, with numpy and OpenCV (settings at ``size`` px)."""
    import cv2

    value = REOBENCH_TABLE[name][SEVERITY - 1]
    centre = ((size - 1) / 2, (size - 1) / 2)
    if name == "haze":
        return lambda image: (image.astype(np.float32) * (1 - value) + 255 * value).astype(np.uint8)
    if name == "data_gaps":
        stripes, width = value
        lost = gap_mask(size, size, stripes, width * size / 800, torch.tensor([0.6]))[0].numpy()
        return lambda image: np.where(lost[..., None], np.uint8(0), image)
    if name == "rotate":
        matrix = cv2.getRotationMatrix2D(centre, value, 1.0)
    elif name == "scale":
        matrix = cv2.getRotationMatrix2D(centre, 0.0, value)
    else:
        shift = value * size / 800
        matrix = np.float32([[1, 0, shift], [0, 1, shift]])
    border = cv2.BORDER_CONSTANT if name == "scale" else cv2.BORDER_REFLECT101
    return lambda image: cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=border)


def corruption_comparison(name: str, batch: torch.Tensor, rounds: int) -> BenchResult:
    table = "imagenet_c" if name in IMAGENET_C_NAMES else "reobench"
    images = [np.ascontiguousarray(image) for image in batch.permute(0, 2, 3, 1).numpy()]
    if table == "imagenet_c":
        reference, label = imagenet_c_reference(name), f"ImageNet-C package per image ({IMAGENET_C_NAMES[name]})"
    else:
        reference, label = reobench_reference(name, batch.shape[-1]), "numpy/OpenCV per image (REOBench's ops)"

    def ours():
        out = corrupt(batch.float() / 255, name, SEVERITY, generator=0, table=table)
        return torch.round(out * 255).to(torch.uint8)

    result = compare({label: lambda: [reference(image) for image in images], "ours, batched": ours},
                     reference=label, name=f"{name} (severity {SEVERITY}, {table} settings)", work=len(images),
                     unit="images", rounds=rounds, warmup=1, targets={"ours, batched": TARGET})
    ratio = result.ratio("ours, batched")
    if ratio.high < TARGET and name in WHY_SLOWER:
        result.notes = f"below the {TARGET:g}× target: {WHY_SLOWER[name]}."
    return result


def absolute_rate(name: str, fn: Callable[[], object], work: int, rounds: int, target: float) -> BenchResult:
    """A hot path with no outside reference: its rate, reported against an absolute target."""
    result = compare({"ours": fn}, reference="ours", name=name, work=work, unit="images", rounds=rounds, warmup=1)
    rate = result.throughput("ours")
    result.notes = f"{rate:,.0f} images/s against the target of {target:,.0f}: {'met' if rate >= target else 'MISSED'}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few images and two rounds (CI)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (targets assume 2 on an idle machine)")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    torch.set_num_threads(args.threads)
    quick = quick_mode()
    n, rounds = (16, 2) if quick else (256, 7)
    scenes = generate_scenes(n, seed=1)
    batch = torch.round(scenes.images * 255).to(torch.uint8)
    print(f"threads: {args.threads}; {n} images at 64² per call; severity {SEVERITY}; target ≥ {TARGET:g}× per image")
    results = []
    for name in CORRUPTIONS:
        result = corruption_comparison(name, batch, rounds)
        print(result.report(), flush=True)
        results.append(result)
    generator = absolute_rate("scene generator (64²)", lambda: generate_scenes(n, seed=2), n, rounds, 1000)
    print(generator.report())
    suite_images = 16 if quick else 800
    suite_batch = generate_scenes(suite_images, seed=3).images

    def whole_suite():
        for name in CORRUPTIONS:
            for severity in range(1, 6):
                corrupt(suite_batch, name, severity, generator=severity)

    suite = absolute_rate(f"whole 12 × 5 suite on {suite_images} images (reobench settings)", whole_suite,
                          60 * suite_images, max(1, rounds // 3), 60 * 800 / 60)
    print(suite.report())
    results += [generator, suite]
    ratios = [result.ratio("ours, batched") for result in results if "ours, batched" in result.candidates]
    geometric_mean = math.exp(np.mean([math.log(ratio.value) for ratio in ratios]))
    missed = [result.name for result, ratio in zip(results, ratios, strict=False) if ratio.high < TARGET]
    print(f"geometric mean of the per-corruption ratios: {geometric_mean:.1f}×; below {TARGET:g}× "
          f"(whole interval): {', '.join(missed) or 'none'}")
    write_record(results, "reobench")


if __name__ == "__main__":
    main()
