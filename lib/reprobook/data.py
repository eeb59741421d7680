"""The dataset registry: every external file the book reads, by its original address and sha256.

A file is looked up in this order: the user cache (``REPROBOOK_DATA_DIR``, default
``~/.cache/reprobook/data``), a local mirror folder (``REPROBOOK_DATA_MIRROR``), then its original
address, downloaded into the cache. Every copy is checked against the registered sha256; a corrupt
cached copy is replaced from a valid mirror copy or from the address, with a warning.

>>> from reprobook import data
>>> data.REGISTRY["ficsum/cmc/cmc_1.csv"].licence
'CC BY 4.0 (UCI)'
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from reprobook.project import user_cache_dir

__all__ = [
    "Dataset",
    "REGISTRY",
    "ChecksumError",
    "DataUnavailableError",
    "DataWarning",
    "cache_dir",
    "mirror_dir",
    "fetch",
    "sha256_of",
]


@dataclass(frozen=True)
class Dataset:
    """One registered file: where it comes from, what it must hash to, and under what terms."""

    name: str
    url: str
    sha256: str
    licence: str
    citation: str
    description: str = ""


class DataUnavailableError(RuntimeError):
    """A registered file is in neither the cache nor the mirror, and could not be downloaded."""


class ChecksumError(DataUnavailableError):
    """A file's sha256 differs from the registered one (and no valid copy could be had)."""


class DataWarning(UserWarning):
    """A corrupt copy of a registered file was found and replaced or ignored."""


_FICSUM = "https://raw.githubusercontent.com/BenHals/FiCSUM/eebe4993ca4981df63a0119fb837705839f88ad3/RawData/Real"
_FICSUM_CITE = (
    "Halstead et al., Fingerprinting Concepts in Data Streams with Supervised and Unsupervised "
    "Meta-Information, ICDE 2021; data from the UCI Machine Learning Repository"
)
_GOODREADS = (
    "https://raw.githubusercontent.com/masoudmansoury/Unfairness_MultifactorialBias/"
    "da64e27cbe5c9209c05b79c3bf926d745bcff314/datasets/goodreads"
)
_GOODREADS_CITE = (
    "Mansoury et al., The Unfairness of Multifactorial Bias in Recommendation, arXiv 2601.12828; "
    "Wan & McAuley, Item Recommendation on Monotonic Behavior Chains, RecSys 2018 (UCSD Goodreads)"
)
_MRBENCH = (
    "https://raw.githubusercontent.com/kaushal0494/UnifyingAITutorEvaluation/"
    "bbef521ddb875f2cc8a5ee798f4066965a7cfd8a/MRBench/MRBench_V2.json"
)


def _entries() -> list[Dataset]:
    return [
        Dataset("ficsum/cmc/cmc_1.csv", f"{_FICSUM}/cmc/cmc_1.csv",
                "f735223622c046661ebdee740893e6a9115ababa2b77f5e2b2a3f6e646886279",
                "CC BY 4.0 (UCI)", _FICSUM_CITE, "UCI Contraceptive Method Choice, concept 1"),
        Dataset("ficsum/cmc/cmc_2.csv", f"{_FICSUM}/cmc/cmc_2.csv",
                "ba9cc7738becefe1be953c88a039d8e30550d39adad313869d6737e235c6058d",
                "CC BY 4.0 (UCI)", _FICSUM_CITE, "UCI Contraceptive Method Choice, concept 2"),
        Dataset("ficsum/uci-wine/winequality-red.csv", f"{_FICSUM}/UCI-Wine/winequality-red.csv",
                "f5eb6b494f4f6431698dce8fb15c356d091c2a5dc13f823742dcc9709a327b4a",
                "CC BY 4.0 (UCI)", _FICSUM_CITE, "UCI Wine Quality, red wines (concept 1)"),
        Dataset("ficsum/uci-wine/winequality-white.csv", f"{_FICSUM}/UCI-Wine/winequality-white.csv",
                "66b071bfe464e02aaef19d61fe28ce99b6f75efebb81be0fb58555713c3ab7a6",
                "CC BY 4.0 (UCI)", _FICSUM_CITE, "UCI Wine Quality, white wines (concept 2)"),
        Dataset("recsys_bias/goodreads/ratings.txt", f"{_GOODREADS}/ratings.txt",
                "a7b1564486550ad74025cbcc28e6219e671662ae7a1c528b8f132e92e67ce9b8",
                "UCSD Goodreads data set: academic use", _GOODREADS_CITE,
                "Goodreads subset: user, item, rating (tab-separated)"),
        Dataset("recsys_bias/goodreads/train.txt", f"{_GOODREADS}/train.txt",
                "b18e5c8e951ce39ff93c2f26887055b74d7cc3ca91880cd67112e32d8a5a947a",
                "UCSD Goodreads data set: academic use", _GOODREADS_CITE, "the authors' training split"),
        Dataset("recsys_bias/goodreads/test.txt", f"{_GOODREADS}/test.txt",
                "552baebbf39f4d5f1dc30b4891fe9a7966eb13024040bac5c81ace147a6caa9c",
                "UCSD Goodreads data set: academic use", _GOODREADS_CITE, "the authors' test split"),
        Dataset("recsys_bias/goodreads/percentile.txt", f"{_GOODREADS}/percentile.txt",
                "819f61976e34231a6c6425ec199711013396f8bc7fdaba6288d7dafd14f95d9d",
                "UCSD Goodreads data set: academic use", _GOODREADS_CITE,
                "the authors' percentile-transformed ratings (reference output)"),
        Dataset("safetutors/mrbench/MRBench_V2.json", _MRBENCH,
                "a8792225075533d15c23e1c903d0c649f19708ee93f5c3d8267eaa6ab623aac1",
                "CC BY-SA 4.0",
                "Maurya et al., Unifying AI Tutor Evaluation, NAACL 2025",
                "MRBench v2: 200 dialogues, 1,655 tutor replies with human labels"),
    ]


REGISTRY: dict[str, Dataset] = {entry.name: entry for entry in _entries()}


def cache_dir() -> Path:
    """The user's data cache (``REPROBOOK_DATA_DIR``, default ``~/.cache/reprobook/data``)."""
    return user_cache_dir("data", "REPROBOOK_DATA_DIR")


def mirror_dir() -> Path | None:
    """The local mirror folder (``REPROBOOK_DATA_MIRROR``), or None when none is configured."""
    configured = os.environ.get("REPROBOOK_DATA_MIRROR")
    return Path(configured).expanduser() if configured else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_verified: dict[tuple[str, int, int], str] = {}


def _verify(path: Path, entry: Dataset) -> Path:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _verified.get(key) or sha256_of(path)
    if digest != entry.sha256:
        raise ChecksumError(
            f"{path} does not match the registered checksum of {entry.name!r}: "
            f"expected sha256 {entry.sha256}, got {digest}. Delete the file and fetch it again "
            f"from {entry.url}."
        )
    if time.time() - stat.st_mtime > 2:  # a file written just now may change again within one timestamp tick
        _verified[key] = digest
    return path


def _lookup(name: str) -> Dataset:
    try:
        return REGISTRY[name]
    except KeyError:
        allowed = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown dataset {name!r}; registered datasets are: {allowed}") from None


def _copy_verified(source: Path, target: Path, entry: Dataset) -> Path:
    """Copy ``source`` to ``target`` atomically, keeping it only when its checksum matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    try:
        shutil.copyfile(source, partial)
        _verify(Path(partial), entry)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def _download(entry: Dataset, cached: Path) -> Path:
    cached.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=cached.parent, prefix=f".{cached.name}.", suffix=".part")
    os.close(handle)
    try:
        with urllib.request.urlopen(entry.url, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        digest = sha256_of(Path(partial))
        if digest != entry.sha256:
            raise ChecksumError(
                f"the download of {entry.name!r} from {entry.url} has sha256 {digest}, "
                f"expected {entry.sha256}; the file was not kept"
            )
        os.replace(partial, cached)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return cached


def fetch(name: str, *, download: bool = True) -> Path:
    """Return a local, checksum-verified path to the registered file ``name``.

    Looks in the cache, then the mirror, then downloads from the original address (when
    ``download`` is true). A corrupt copy is never returned: a corrupt cached file is replaced from a
    valid mirror copy or from the address, with a :class:`DataWarning`. Raises
    :class:`DataUnavailableError` (:class:`ChecksumError` when only corrupt copies were found) with
    instructions when no valid copy can be had.
    """
    entry = _lookup(name)
    cached = cache_dir() / name
    corrupt: list[str] = []
    if cached.exists():
        try:
            return _verify(cached, entry)
        except ChecksumError:
            corrupt.append(f"the cached copy {cached} was corrupt and has been removed")
            warnings.warn(f"the cached copy of {name!r} at {cached} does not match its sha256; replacing it "
                          "from the mirror or its address", DataWarning, stacklevel=2)
            cached.unlink(missing_ok=True)
    mirror = mirror_dir()
    if mirror is not None and (mirror / name).exists():
        try:
            _verify(mirror / name, entry)
        except ChecksumError:
            corrupt.append(f"the mirror copy {mirror / name} does not match its sha256")
            warnings.warn(f"the mirror copy of {name!r} at {mirror / name} does not match its sha256; "
                          "ignoring it", DataWarning, stacklevel=2)
        else:
            if not corrupt:
                return mirror / name
            warnings.warn(f"replaced the corrupt cached copy of {name!r} from the mirror {mirror}",
                          DataWarning, stacklevel=2)
            return _copy_verified(mirror / name, cached, entry)
    failure = ChecksumError if corrupt else DataUnavailableError
    if not download:
        raise failure(_unavailable_message(entry, cached, "downloading was disabled", corrupt))
    try:
        path = _download(entry, cached)
    except ChecksumError as error:
        raise ChecksumError(_unavailable_message(entry, cached, str(error), corrupt)) from error
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise failure(_unavailable_message(entry, cached, str(error), corrupt)) from error
    if corrupt:
        warnings.warn(f"replaced the corrupt copy of {name!r} by a fresh download from {entry.url}",
                      DataWarning, stacklevel=2)
    return path


def _unavailable_message(entry: Dataset, cached: Path, reason: str, corrupt: list[str] | None = None) -> str:
    mirror = mirror_dir()
    mirror_note = (
        f"the mirror {mirror} has no valid {entry.name}" if mirror is not None
        else "no mirror is configured (REPROBOOK_DATA_MIRROR is unset)"
    )
    found = f" ({'; '.join(corrupt)})" if corrupt else ""
    return (
        f"dataset {entry.name!r} is not available: no valid copy is in the cache{found}, {mirror_note}, and the "
        f"download from {entry.url} failed ({reason}). Download that file by hand to {cached}, or set "
        f"REPROBOOK_DATA_MIRROR to a folder that holds {entry.name} (sha256 {entry.sha256})."
    )
