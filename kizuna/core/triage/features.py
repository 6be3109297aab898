"""Features of the triage model: char n-grams, cue counts, brand sense and reach.

Plain data in, sparse matrices out; no Django. Texts are compared in their `normalize`d
form, whose positions `original_span` maps back to the text as written, so that a reason
can quote the post's own words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

from kizuna.core.normalize import SEPARATOR, finish_fold, normalize, prefold_joined
from kizuna.core.triage.lexicon import LARGE_REACH, lexicon

NGRAM_RANGE = (1, 4)
CONTEXT_WEIGHT = 0.5  # earlier posts of the thread count half as much as the post itself
ALIAS_MARK = "◆"  # stands for a brand alias, so that n-grams learn the words around it


@dataclass(frozen=True)
class BrandContext:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class TriagePost:
    text: str
    context: tuple[str, ...] = ()  # earlier posts of the thread, oldest first
    brand: BrandContext | None = None
    author_followers: int = 0
    lang: str | None = None


def normalize_many(texts: Sequence[str]) -> list[str]:
    """Normalize a batch of texts in one pass (equal to `normalize` of each)."""
    if not texts:
        return []
    return [t.strip(" ") for t in finish_fold(prefold_joined(texts)).split(SEPARATOR)]


# --- n-grams -------------------------------------------------------------------------------


def ngrams(text: str) -> list[str]:
    """Return the char n-grams of a normalized text, shortest first."""
    lo, hi = NGRAM_RANGE
    size = len(text)
    return [text[i : i + n] for n in range(lo, hi + 1) for i in range(size - n + 1)]


def ngram_positions(text: str) -> list[tuple[str, int, int]]:
    """Return (n-gram, start, end) for every char n-gram of a normalized text."""
    lo, hi = NGRAM_RANGE
    size = len(text)
    return [(text[i : i + n], i, i + n) for n in range(lo, hi + 1) for i in range(size - n + 1)]


class NgramVectorizer:
    """TF-IDF over char n-grams: sublinear term frequency, smoothed idf, rows of length 1."""

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray) -> None:
        self.vocabulary = list(vocabulary)
        self.index = {g: i for i, g in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self._compiled: tuple[np.ndarray, int, np.ndarray, np.ndarray] | None = None

    @classmethod
    def fit(cls, texts: Iterable[str], *, min_df: int = 2) -> NgramVectorizer:
        """Learn the vocabulary (n-grams in at least min_df texts) and idf of normalized texts."""
        df: Counter[str] = Counter()
        count = 0
        for text in texts:
            df.update(set(ngrams(text)))
            count += 1
        vocabulary = sorted(g for g, n in df.items() if n >= min_df and g.strip())
        idf = np.array([math.log((1 + count) / (1 + df[g])) + 1 for g in vocabulary])
        return cls(vocabulary, idf)

    def _compile(self) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        # Each character of the vocabulary gets a small code (0: a character it lacks), and
        # each n-gram the integer of its codes side by side, so that a whole batch is looked
        # up with numpy (searchsorted) instead of a Python loop over slices.
        alphabet = sorted({c for g in self.vocabulary for c in g})
        bits = max(1, len(alphabet).bit_length())
        if bits * NGRAM_RANGE[1] > 60:
            raise ValueError(f"{len(alphabet)} distinct characters are too many for one 64-bit key per n-gram")
        table = np.zeros(0x110000, dtype=np.int32)
        table[[ord(c) for c in alphabet]] = np.arange(1, len(alphabet) + 1)
        keys = np.array([self._key([int(table[ord(c)]) for c in g], bits) for g in self.vocabulary], dtype=np.int64)
        order = np.argsort(keys)
        return table, bits, keys[order], order

    @staticmethod
    def _key(codes: Sequence[int], bits: int) -> int:
        key = len(codes) << 60
        for k, code in enumerate(codes):
            key |= code << (bits * k)
        return key

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Return the TF-IDF rows of normalized texts."""
        if self._compiled is None:
            self._compiled = self._compile()
        table, bits, sorted_keys, order = self._compiled
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        # Posts joined with a character no n-gram contains (code 0), so no n-gram spans two.
        joined = SEPARATOR.join(t.replace(SEPARATOR, " ") for t in texts)
        codes = table[np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)].astype(np.int64)
        starts = np.cumsum(np.concatenate(([0], lengths[:-1] + 1)))
        positions_all, features_all = [], []
        key = np.zeros(len(codes), dtype=np.int64)
        known = np.ones(len(codes), dtype=bool)
        for n in range(1, NGRAM_RANGE[1] + 1):
            size = len(codes) - n + 1
            if size <= 0:
                break
            shifted = codes[n - 1 : n - 1 + size]
            key = key[:size] | (shifted << (bits * (n - 1)))
            known = known[:size] & (shifted > 0)
            if n < NGRAM_RANGE[0]:
                continue
            candidates = np.flatnonzero(known)
            full = key[candidates] | (n << 60)
            at = np.minimum(np.searchsorted(sorted_keys, full), len(sorted_keys) - 1)
            hit = sorted_keys[at] == full if len(sorted_keys) else np.zeros(len(full), dtype=bool)
            positions_all.append(candidates[hit])
            features_all.append(order[at[hit]])
        positions = np.concatenate(positions_all) if positions_all else np.zeros(0, dtype=np.int64)
        features = np.concatenate(features_all) if features_all else np.zeros(0, dtype=np.int64)
        rows = np.searchsorted(starts, positions, side="right") - 1
        matrix = sparse.csr_matrix((np.ones(len(features)), (rows, features)), shape=(len(texts), len(self.vocabulary)))
        matrix.sum_duplicates()
        matrix.data = (1.0 + np.log(matrix.data)) * self.idf[matrix.indices]
        per_row = np.diff(matrix.indptr)
        owner = np.repeat(np.arange(len(texts)), per_row)
        squares = np.bincount(owner, weights=matrix.data**2, minlength=len(texts))
        norms = np.sqrt(np.where(per_row > 0, squares, 1.0))
        matrix.data /= np.repeat(norms, per_row)
        return matrix


# --- brand sense ---------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[。.!?!?\n]+")
# A description sentence that says what else the brand's words mean: "… is not the brand", or
# the same said otherwise, as people write descriptions (「…のことが多い」 after 日常語 or 作品名,
# 「…とは無関係」, "unrelated", "the everyday word").
# fmt: off
_OTHER_SENSES = ("日常語", "一般語", "一般名詞", "作品名", "人名", "同名")  # kinds of word a name also is
_NOT_THE_BRAND = (
    "ではない", "ではありません", "じゃない", "無関係", "関係ない", "関係のない", "関係ありません", "別物",
    "とは別", "指さない", "指しません", *_OTHER_SENSES, "地名", "別の意味", "他の意味",
    "not the brand", "not us", "not our", "unrelated", "not related", "nothing to do with",
    "everyday word", "common word", "other meaning", "another meaning", "also means", "namesake",
)
# fmt: on
_PHRASE_SPLIT = re.compile(
    r"[「」『』()()\[\]、,・/\s:;]+|など|としての|という|といった|のような|は?当ブランドではない|ではない|ではありません"
)
# Content words as written: runs of one script (hiragana is left out: mostly grammar).
_CONTENT_WORD = re.compile(r"[\u4e00-\u9fff々]+|[\u30a1-\u30faー]{2,}|[A-Za-z0-9][A-Za-z0-9-]+")
# Words of descriptions that say what kind of word an alias is, not what a post says.
# fmt: off
_DESCRIPTION_WORDS = frozenset(
    normalize(w)
    for w in (
        *_OTHER_SENSES, "言葉", "意味", "用法", "投稿", "キャラクター名", "他社", "製品", "様子", "状態", "当", "表", "言", "書", "思", "他", "系", "名", "味", "各種", "販売",
        "公式", "ブランド", "全国", "店名", "基本", "単体", "単独", "別", "別物", "無関係", "関係", "当社", "弊社",
    )
)
# fmt: on


@dataclass(frozen=True)
class BrandSense:
    aliases: tuple[str, ...]  # normalized, longest first
    strong_aliases: tuple[str, ...]  # aliases the description never gives another meaning
    not_brand_phrases: tuple[str, ...]  # phrases of "... is not the brand" that contain an alias
    not_brand_words: tuple[str, ...]  # other words of those sentences
    brand_words: tuple[str, ...]  # words of the rest of the description


def says_not_the_brand(sentence: str) -> bool:
    """Whether a sentence of a brand's description gives its words another meaning."""
    lowered = sentence.lower()
    return any(marker in lowered for marker in _NOT_THE_BRAND)


def _content_words(sentence: str, *, shortest: int) -> list[str]:
    return [w for w in map(normalize, _CONTENT_WORD.findall(sentence)) if len(w) >= shortest]


_LATIN_ALIAS = re.compile(r"[a-z][a-z0-9-]*(?: [a-z0-9-]+)*")


def longest_first(names: Iterable[str]) -> list[str]:
    """Return names longest first, and of two as long in text order: never in a set's order,
    which changes with the process's hash seed (and every masked alias, so every weight, with it)."""
    return sorted(names, key=lambda n: (-len(n), n))


@lru_cache(maxsize=4096)
def brand_sense(brand: BrandContext) -> BrandSense:
    """Read a brand's aliases and description: which words mean the brand and which do not."""
    written = {n for n in map(normalize, (brand.name, *brand.aliases)) if n}
    # "TSUBASA Air" is also written "Tsubasa": the first word of a Latin name is an alias too.
    written |= {a.split(" ")[0] for a in written if _LATIN_ALIAS.fullmatch(a) and " " in a}
    aliases = longest_first(written)
    negative: list[str] = []
    positive: list[str] = []
    for sentence in _SENTENCE_END.split(brand.description):
        (negative if says_not_the_brand(sentence) else positive).append(sentence)
    negative_text = normalize(" ".join(negative))

    def unrelated(word: str) -> bool:
        return word not in _DESCRIPTION_WORDS and word not in written and not any(a in word for a in aliases)

    phrases = [normalize(p).lstrip("ノハガヲニデトモヘヤ") for s in negative for p in _PHRASE_SPLIT.split(s)]
    # Handles and Japanese aliases the description gives no other meaning; one Latin word
    # ("Hirameki", "Closet") is as ambiguous as the Japanese word it spells.
    strong = [
        a
        for a in aliases
        if a.startswith("@") or (a not in negative_text and not (_LATIN_ALIAS.fullmatch(a) and " " not in a))
    ]
    # "洗濯機" names the brand's product although "まっしろ洗濯機" is an alias; "サクッ" is just part of one.
    atomic = [a for a in aliases if not any(b != a and b in a for b in aliases)]
    pieces = [normalize(p) for s in positive for p in _PHRASE_SPLIT.split(s)]
    brand_words = [w for s in positive for w in _content_words(s, shortest=2)] + [p for p in pieces if 2 <= len(p) <= 6]
    return BrandSense(
        aliases=tuple(aliases),
        strong_aliases=tuple(strong),
        not_brand_phrases=tuple(dict.fromkeys(p for p in phrases if p not in written and any(a in p for a in aliases))),
        not_brand_words=tuple(
            dict.fromkeys(
                w
                for s in negative
                for w in _content_words(s, shortest=1)
                if unrelated(w) and not any(w in a for a in aliases)
            )
        ),
        brand_words=tuple(
            dict.fromkeys(
                w
                for w in brand_words
                if w not in _DESCRIPTION_WORDS and w not in written and not any(w in a for a in atomic)
            )
        ),
    )


def brand_passages(brand: BrandContext) -> tuple[str, str]:
    """Return (what the brand is, what it is not) from its description, for the semantic tier.

    The first is the description's sentences about the brand, the second those that say
    "... is not the brand". The brand's own names are taken out of both: every post that
    names the brand shares them, so they would make "what it is not" (which repeats the
    name in its other senses) look near to any post that names the brand, whatever it says.
    """
    names = longest_first({n for n in (brand.name, *brand.aliases) if n})

    def without_names(sentence: str) -> str:
        for name in names:
            sentence = sentence.replace(name, "")
        return sentence.strip()

    about: list[str] = []
    other: list[str] = []
    for sentence in _SENTENCE_END.split(brand.description):
        if sentence.strip():
            (other if says_not_the_brand(sentence) else about).append(without_names(sentence))
    return "。".join(s for s in about if s) or brand.name, "。".join(s for s in other if s) or brand.name


def find_aliases(sense: BrandSense, normalized: str) -> list[tuple[int, int]]:
    """Return the (start, end) of each alias occurrence, not overlapping: the longest alias first,
    and of two as long the one that occurs first (「ぽかぽかこたつ」: ぽかぽか, not ぽかこた)."""
    found = []
    for alias in sense.aliases:
        start = normalized.find(alias)
        while start >= 0:
            found.append((-len(alias), start))
            start = normalized.find(alias, start + 1)
    taken: list[tuple[int, int]] = []
    for length, start in sorted(found):
        end = start - length
        if not any(s < end and start < e for s, e in taken):
            taken.append((start, end))
    return sorted(taken)


def mask_aliases(normalized: str, spans: Sequence[tuple[int, int]]) -> str:
    """Replace each alias span with ALIAS_MARK characters (positions stay the same)."""
    if not spans:
        return normalized
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += [normalized[last:start], ALIAS_MARK * (end - start)]
        last = end
    parts.append(normalized[last:])
    return "".join(parts)


BRAND_FEATURES = (
    "no brand",
    "alias in text",
    "alias only in context",
    "unambiguous alias",
    "not-the-brand phrase",
    "not-the-brand word",
    "not-the-brand kanji",
    "brand word",
)


@dataclass(frozen=True)
class BrandEvidence:
    values: tuple[float, ...]  # in BRAND_FEATURES order
    not_brand: tuple[str, ...]  # normalized phrases and words found that say "not the brand"
    brand_words: tuple[str, ...]
    # Every alias in the post is inside a phrase the description calls another meaning, and
    # nothing else in the post or its thread points at the brand.
    other_meaning: bool = False


def brand_evidence(
    sense: BrandSense | None, text: str, context: str, spans: Sequence[tuple[int, int]]
) -> BrandEvidence:
    """Weigh whether a normalized post uses the brand's name for the brand."""
    if sense is None:
        return BrandEvidence((1.0,) + (0.0,) * (len(BRAND_FEATURES) - 1), (), ())
    phrases = tuple(p for p in sense.not_brand_phrases if p in text)
    words = tuple(w for w in sense.not_brand_words if len(w) > 1 and w in text)
    kanji = tuple(w for w in sense.not_brand_words if len(w) == 1 and w in text)
    brand_words = tuple(w for w in sense.brand_words if w in text or w in context)
    in_context = not spans and any(a in context for a in sense.aliases)
    strong = any(a in text or a in context for a in sense.strong_aliases)
    values = (
        0.0,
        1.0 if spans else 0.0,
        1.0 if in_context else 0.0,
        1.0 if strong else 0.0,
        min(len(phrases), 2) / 2,
        min(len(words), 2) / 2,
        min(len(kanji), 2) / 2,
        min(len(brand_words), 3) / 3,
    )
    inside = [(at, at + len(p)) for p in phrases for at in _occurrences(text, p)]
    other_meaning = bool(
        spans
        and phrases
        and not strong
        and not brand_words
        and all(any(s <= start and end <= e for s, e in inside) for start, end in spans)
    )
    return BrandEvidence(values, phrases + words, brand_words, other_meaning)


def _occurrences(text: str, part: str) -> list[int]:
    found = []
    at = text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


# --- the dense block ---------------------------------------------------------------------------


def reach_features(followers: int) -> tuple[float, float]:
    """Return (log-scaled followers, large reach) for an author."""
    return (min(math.log10(1 + max(followers, 0)) / 6, 1.0), 1.0 if followers >= LARGE_REACH else 0.0)


def dense_names() -> list[str]:
    """Return the names of the dense feature columns, in order."""
    groups = lexicon().groups
    return (
        [f"cue {g}" for g in groups]
        + [f"context cue {g}" for g in groups]
        + [f"brand: {b}" for b in BRAND_FEATURES]
        + ["reach", "reach >= 10,000", "length"]
    )


def dense_rows(posts: Sequence[PreparedPost], groups: Sequence[str] | None = None) -> np.ndarray:
    """Return the dense features of normalized posts, one row each (see dense_names).

    groups: the cue groups a model was trained with, in its order (default: this lexicon's).
    A group the lexicon no longer has counts zero, and one added since is left out, so a
    model keeps working when cue groups are added.
    """
    lex = lexicon()
    cues = np.array([lex.group_counts(p.text) for p in posts], dtype=np.float64).reshape(len(posts), -1)
    context = np.zeros_like(cues)
    for i, p in enumerate(posts):
        if p.context:
            context[i] = lex.group_counts(p.context)
    if groups is not None and tuple(groups) != lex.groups:
        at = {g: i for i, g in enumerate(lex.groups)}
        padded = [np.hstack([m, np.zeros((len(posts), 1))]) for m in (cues, context)]
        pick = [at.get(g, len(lex.groups)) for g in groups]  # the last, padded column is all zeros
        cues, context = (m[:, pick] for m in padded)
    other = np.array(
        [(*p.evidence.values, *reach_features(p.followers), min(len(p.text), 280) / 280) for p in posts]
    ).reshape(len(posts), -1)
    return np.hstack([np.minimum(cues, 2) / 2, np.minimum(context, 2) / 4, other])


@dataclass(frozen=True)
class PreparedPost:
    original: str
    text: str  # normalized
    context: str  # normalized, the earlier posts joined by newlines (now spaces)
    aliases: tuple[tuple[int, int], ...]  # where the brand's aliases are in text
    context_aliases: tuple[tuple[int, int], ...]
    evidence: BrandEvidence
    followers: int


def prepare(posts: Sequence[TriagePost]) -> list[PreparedPost]:
    """Normalize a batch of posts and weigh their brand evidence."""
    texts = normalize_many([p.text for p in posts])
    contexts = normalize_many(["\n".join(p.context) for p in posts])
    prepared = []
    for post, text, context in zip(posts, texts, contexts, strict=True):
        sense = brand_sense(post.brand) if post.brand is not None else None
        spans = find_aliases(sense, text) if sense else []
        context_spans = find_aliases(sense, context) if sense and context else []
        evidence = brand_evidence(sense, text, context, spans)
        prepared.append(
            PreparedPost(post.text, text, context, tuple(spans), tuple(context_spans), evidence, post.author_followers)
        )
    return prepared


def feature_matrix(
    vectorizer: NgramVectorizer,
    posts: Sequence[PreparedPost],
    *,
    mask: bool,
    dense_weight: float,
    groups: Sequence[str] | None = None,
) -> sparse.csr_matrix:
    """Return the model's input rows: n-grams of text and context, then the dense block."""
    rows = vectorizer.transform([mask_aliases(p.text, p.aliases) if mask else p.text for p in posts])
    threads = [i for i, p in enumerate(posts) if p.context]
    if threads:
        contexts = [
            mask_aliases(posts[i].context, posts[i].context_aliases) if mask else posts[i].context for i in threads
        ]
        spread = sparse.csr_matrix(
            (np.full(len(threads), CONTEXT_WEIGHT), (threads, range(len(threads)))), shape=(len(posts), len(threads))
        )
        rows = rows + spread @ vectorizer.transform(contexts)
    return sparse.hstack([rows, sparse.csr_matrix(dense_rows(posts, groups) * dense_weight)], format="csr")


# --- from normalized positions back to the text as written ---------------------------------

# Length-preserving folds, enough to find most normalized spans in the original text.
_LIGHT_FOLD: dict[int, int] = {
    **{cp: cp + 0x60 for cp in range(0x3041, 0x3097)},
    **{cp: cp + 0x20 for cp in range(0x41, 0x5B)},
    **{cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)},
    0x3000: ord(" "),
    ord("〜"): ord("ー"),
    ord("~"): ord("ー"),
}


def light_fold(original: str) -> str:
    """Return the original text folded like `normalize` where that keeps its length."""
    return original.translate(_LIGHT_FOLD).lower()


def original_span(original: str, normalized_span: str, folded: str | None = None) -> str:
    """Return the part of the original text that normalizes to normalized_span (or the span itself)."""
    if not normalized_span:
        return normalized_span
    at = (light_fold(original) if folded is None else folded).find(normalized_span)
    if at >= 0:
        return original[at : at + len(normalized_span)]
    # Slow path (half-width kana, compatibility characters): align through normalized prefixes.
    at = normalize(original).find(normalized_span)
    if at < 0:
        return normalized_span
    lengths = [len(prefix) for prefix in normalize_many([original[: i + 1] for i in range(len(original))])]
    start = next((i for i, n in enumerate(lengths) if n > at), 0)
    end = next((i + 1 for i, n in enumerate(lengths) if n >= at + len(normalized_span)), len(original))
    return original[start:end]


_PUNCTUATION = " 、。,.!?!?・…ー「」『』()()[]#@\"'~:;◆"
_PARTICLES = "のはがをにでともへやかねよ"
_BREAK = re.compile(r"[ 、。,.!?!?・…「」『』()()\[\]:;◆]+")
_WORDLIKE = re.compile(r"[\u4e00-\u9fff\u30a1-\u30fa\uff66-\uff9d]|[A-Za-z0-9]{2,}")
_LATIN_PAIR = re.compile(r"[a-z0-9']{2}")
# English words that say nothing on their own: a reason 「The」「Kinda」→ delivery only confuses.
# Phrases made of them ("is there", "can I") still show; they are a question's shape.
_FUNCTION_WORD_LIST = """a an the and or but so if of in on at to for from with by as into about than then
i me my we our you your he she it its they them their this that these those there here
is am are was were be been being do does did done have has had can could will would
should just not no very really too also even still only such some any all kinda sorta
tbh lol omg pls btw like got get it's i'm i've that's there's"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORD_LIST.split())


_DEPENDENT_KANA = frozenset("ァィゥェォャュョッヮーぁぃぅぇぉゃゅょっゎ")


def readable_spans(
    original: str,
    normalized: str,
    scored: Iterable[tuple[int, int, float]],
    limit: int = 3,
    *,
    folded: str | None = None,
) -> list[str]:
    """Return up to limit readable runs of the original text that carry the most positive weight.

    scored holds (start, end, weight) for the weightiest n-gram occurrences of the normalized
    text; overlapping or touching ones are joined into runs, which are mapped back to the
    original text and trimmed of punctuation and particles.
    """
    intervals = sorted((s, e, w) for s, e, w in scored if w > 0)
    if not intervals:
        return []
    runs: list[list[float]] = []
    for start, end, weight in intervals:
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
            runs[-1][2] += weight
        else:
            runs.append([start, end, weight])
    best = max(r[2] for r in runs)
    folded = light_fold(original) if folded is None else folded
    size = len(normalized)
    shown: list[tuple[float, str]] = []
    for run_start, run_end, weight in runs:
        if weight < 0.25 * best:
            continue
        start, end = int(run_start), int(run_end)
        # Whole English words, not pieces of them.
        while start > 0 and _LATIN_PAIR.fullmatch(normalized[start - 1 : start + 1]):
            start -= 1
        while end < size and _LATIN_PAIR.fullmatch(normalized[end - 1 : end + 1]):
            end += 1
        # Nor half a mora: a small kana or a long-vowel mark belongs to the kana before it
        # (「ャンセルした」 is 「キャンセルした」).
        while start > 0 and normalized[start] in _DEPENDENT_KANA:
            start -= 1
        while end < size and normalized[end] in _DEPENDENT_KANA:
            end += 1
        # A run across punctuation is two phrases: show the longer one.
        pieces = [p for p in _BREAK.split(normalized[start:end]) if p]
        span = max(pieces, key=len) if pieces else ""
        text = original_span(original, span, folded).strip(_PUNCTUATION).strip(_PARTICLES).strip(_PUNCTUATION)
        if len(text) >= 2 and _WORDLIKE.search(text) and text.lower() not in _FUNCTION_WORDS:
            shown.append((weight, text))
    shown.sort(key=lambda r: -r[0])
    return list(dict.fromkeys(text for _, text in shown))[:limit]
