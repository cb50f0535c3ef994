"""Keyed noise that cannot be averaged away: the Zensus 2022 cell-key idea.

The perturbation of a published count is a function of the twin's secret, the record (the atom that names it and
the column: persons or households of one persona) and the true value, and of nothing else: not the scenario, its
name, the order of requests or the query that asked. Asking again, under another name or in another combination
gives the same published value, so repeating a question teaches nothing new. Keying on the true value as well means
that a rebuilt twin whose atom changed gets a fresh draw, and two builds cannot be subtracted to cancel the noise.

Example:
    >>> secret = noise_secret(b"the twin's key")
    >>> keyed_noise(secret, np.array([617700169958293503], np.uint64), 4, np.array([[51, 23, 9, 3]]), 2).shape
    (1, 4)
"""

from __future__ import annotations

import hashlib

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_VALUE = np.uint64(0xD6E8FEB86659FD93)


def noise_secret(key: bytes) -> np.uint64:
    """The 64-bit noise secret derived from the twin's privacy key (a separate domain from other uses of the key)."""
    digest = hashlib.blake2b(digest_size=8, person=b"twin3d.cellkey")
    digest.update(len(key).to_bytes(8, "little") + key)
    return np.uint64(int.from_bytes(digest.digest(), "little"))


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: uint64 in, well-mixed uint64 out (wrapping arithmetic is intended)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def keyed_noise(
    secret: np.uint64, record_ids: np.ndarray, n_columns: int, true_values: np.ndarray, amplitude: int
) -> np.ndarray:
    """int64 (records, columns) in [-amplitude, amplitude]: a function of (secret, record, column, true value).

    Args:
        secret: :func:`noise_secret` of the twin's key.
        record_ids: uint64, one per record (an atom's H3 id).
        n_columns: the columns per record.
        true_values: int (records, columns), the unperturbed counts.
        amplitude: the largest perturbation.
    """
    if amplitude == 0 or not len(record_ids):
        return np.zeros((len(record_ids), n_columns), np.int64)
    codes = np.arange(1, n_columns + 1, dtype=np.uint64) * _GOLDEN
    values = np.asarray(true_values, dtype=np.int64).astype(np.uint64) * _VALUE
    with np.errstate(over="ignore"):
        x = _mix(_mix(np.asarray(record_ids, np.uint64) ^ secret)[:, None] ^ codes[None, :])
        x = _mix(x ^ values)
        x = _mix(x + secret)
    return (x % np.uint64(2 * amplitude + 1)).astype(np.int64) - amplitude
