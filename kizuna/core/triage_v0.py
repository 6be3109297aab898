"""Triage, first version: a transparent keyword lexicon.

This is the clearly-labelled stand-in the foundation needs (model name "keywords-v0"); the
triage issue replaces it with a model that learns from operators. It is deliberately simple:
every label comes with the cue words that produced it, so an operator can see why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kizuna.core.normalize import normalize

MODEL_NAME = "keywords-v0"

# Checked in this order; the first intent with a cue wins. Cues are normalized like posts.
INTENT_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "noise",
        (
            "プレゼント企画",
            "フォロー&rt",
            "フォローとrt",
            "抽選で",
            "ひだまりスケッチ",
            "サクッと終わ",
            "サクッと済ま",
            "サクッと飲み",
            "サクッと行",
            "サクッと揚が",
            "ひだまりで",
            "giveaway",
        ),
    ),
    (
        "urgent",
        (
            "今日中",
            "今すぐ",
            "至急",
            "間に合わない",
            "閉まってる",
            "助けて",
            "どうしよう",
            "二重に引き落と",
            "urgent",
            "asap",
            "right now",
        ),
    ),
    (
        "staff",
        ("店員", "スタッフ", "接客", "態度", "対応が悪", "対応ひど", "レジの", "電話対応", "窓口", "rude", "staff"),
    ),
    (
        "defect",
        (
            "壊れ",
            "割れて",
            "破れて",
            "落ちる",
            "ログインできない",
            "エラー",
            "不具合",
            "バグ",
            "開かない",
            "異物",
            "入ってた",
            "変な音",
            "カビ",
            "固まる",
            "起動しない",
            "broken",
            "crash",
            "error",
            "bug",
        ),
    ),
    (
        "delivery",
        (
            "届かない",
            "届いた",
            "配送",
            "発送",
            "注文",
            "在庫",
            "売り切れ",
            "入荷",
            "再販",
            "置いてない",
            "売ってない",
            "delivery",
            "shipping",
            "out of stock",
            "order",
        ),
    ),
    (
        "question",
        (
            "どうやって",
            "どこで",
            "方法",
            "教えて",
            "ですか?",
            "ますか?",
            "かな?",
            "わからない",
            "分からない",
            "how do",
            "how can",
            "where can",
            "?",
        ),
    ),
    (
        "request",
        (
            "してほしい",
            "して欲しい",
            "ほしいな",
            "欲しいな",
            "出して",
            "復活",
            "希望",
            "お願いします",
            "wish",
            "please bring",
            "would love",
        ),
    ),
    (
        "complaint",
        (
            "まずい",
            "高い",
            "値上げ",
            "減った",
            "小さくなった",
            "残念",
            "がっかり",
            "ひどい",
            "最悪",
            "不満",
            "disappointed",
            "too expensive",
        ),
    ),
    (
        "praise",
        (
            "美味しい",
            "おいしい",
            "うまい",
            "好き",
            "最高",
            "神",
            "ありがとう",
            "助かった",
            "便利",
            "love",
            "great",
            "delicious",
            "thank",
        ),
    ),
)
HIGH_RISK_CUES = (
    "異物",
    "食中毒",
    "アレルギー",
    "怪我",
    "けが",
    "発火",
    "消費者センター",
    "訴え",
    "弁護士",
    "返金されない",
    "二重に引き落と",
    "保健所",
    "拡散",
)
RESPONSE_BY_INTENT = {
    "praise": "thanks",
    "request": "thanks",
    "question": "guidance",
    "delivery": "guidance",
    "urgent": "guidance",
    "defect": "apology",
    "staff": "apology",
    "complaint": "apology",
    "mention": "none",
    "noise": "none",
}
RISK_BY_INTENT = {"staff": "medium", "defect": "medium", "urgent": "medium", "complaint": "medium"}
LARGE_REACH = 10_000

# (normalized cue, cue as written): match on the first, show the second in reasons.
_NORMALIZED_INTENT_CUES = tuple((intent, tuple((normalize(c), c) for c in cues)) for intent, cues in INTENT_CUES)
_NORMALIZED_RISK_CUES = tuple((normalize(c), c) for c in HIGH_RISK_CUES)


@dataclass(frozen=True)
class TriageInput:
    text: str
    context: Sequence[str] = ()
    author_followers: int = 0


@dataclass(frozen=True)
class TriageResult:
    intent: str
    response: str
    risk: str
    confidence: float
    reasons: list[str] = field(default_factory=list)
    model: str = MODEL_NAME


def triage(post: TriageInput) -> TriageResult:
    """Label one post by its cue words; every label names the cues behind it."""
    text = normalize(post.text)
    intent, reasons = "mention", []
    for candidate, cues in _NORMALIZED_INTENT_CUES:
        hits = [shown for cue, shown in cues if cue in text]
        if hits:
            intent = candidate
            reasons.append(f"{candidate}: " + "、".join(f"「{h}」" for h in hits[:3]))
            break
    else:
        reasons.append("mention: no cue words (keywords-v0)")
    risk = RISK_BY_INTENT.get(intent, "low")
    risk_hits = [shown for cue, shown in _NORMALIZED_RISK_CUES if cue in text]
    if risk_hits:
        risk = "high"
        reasons.append("risk high: " + "、".join(f"「{h}」" for h in risk_hits[:3]))
    elif post.author_followers >= LARGE_REACH and intent not in ("praise", "mention", "noise"):
        risk = "high"
        reasons.append(f"risk high: author has {post.author_followers:,} followers")
    confidence = 0.6 if len(reasons) > 0 and intent != "mention" else 0.3
    return TriageResult(intent, RESPONSE_BY_INTENT[intent], risk, confidence, reasons)
