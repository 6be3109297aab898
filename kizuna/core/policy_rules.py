"""The detectors behind the reply policy linter: each finds spans of a draft that break one rule.

Detectors match on a normalized copy of the draft (NFKC and case folding, one grapheme cluster at a
time) and report spans as Python ``str`` indices into the original draft, so that ``ｾｰﾙ`` is found
by the term ``セール`` and the span still covers the half-width original. Pure Python, no Django.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import regex

from kizuna.core.length import extract_emoji_with_indices, extract_urls_with_indices


@dataclass(frozen=True)
class Finding:
    """One breach of a rule: where it is and what it is (the message names the offending text)."""

    start: int
    end: int
    message: str


@dataclass(frozen=True)
class NormalizedText:
    """A draft folded for matching, with each folded character mapped back to the original span."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) range of the folded text to the original draft."""
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


_GRAPHEME_RE = regex.compile(r"\X")


def fold(text: str) -> str:
    """Fold text for matching: NFKC (full-width, half-width kana, ①) then case folding."""
    return unicodedata.normalize("NFKC", text).casefold()


def normalize(text: str) -> NormalizedText:
    """Fold text grapheme by grapheme, keeping a map from folded characters to original indices."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _GRAPHEME_RE.finditer(text):
        folded = fold(m.group())
        parts.append(folded)
        starts.extend([m.start()] * len(folded))
        ends.extend([m.end()] * len(folded))
    return NormalizedText(text, "".join(parts), tuple(starts), tuple(ends))


def quote(text: str, limit: int = 40) -> str:
    """Quote text for a message on one line, shortened to limit characters."""
    text = " ".join(text.split())
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'


def _at(start: int, end: int) -> str:
    return f"at {start}–{end}"


def _overlaps(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _find_patterns(norm: NormalizedText, patterns: Sequence[regex.Pattern[str]], what: str) -> list[Finding]:
    """Report the matches of all patterns, overlapping matches merged into one span."""
    spans = sorted(
        norm.span(m.start(), m.end())
        for pattern in patterns
        for m in pattern.finditer(norm.text)
        if m.end() > m.start()
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [Finding(start, end, f"{what} {quote(norm.original[start:end])} {_at(start, end)}") for start, end in merged]


def literal_patterns(terms: Iterable[str]) -> list[regex.Pattern[str]]:
    """Compile user-given terms as literal phrases matched on folded text (ASCII words whole)."""
    patterns = []
    for term in terms:
        folded = fold(term).strip()
        if not folded:
            continue
        body = regex.escape(folded)
        if folded[0].isascii() and folded[0].isalnum():
            body = r"(?<![a-z0-9])" + body
        if folded[-1].isascii() and folded[-1].isalnum():
            body = body + r"(?![a-z0-9])"
        patterns.append(regex.compile(body))
    return patterns


def _compile(patterns: Iterable[str]) -> list[regex.Pattern[str]]:
    return [regex.compile(p) for p in patterns]


# --- sales ------------------------------------------------------------------------------------

# Written against folded text (NFKC + casefold). Each phrase sells or promotes; phrases that support
# replies also use ("おすすめします" for a setting, "セールス" for the sales team, "お得意様") are
# deliberately left out or excluded.
DEFAULT_SALES_PATTERNS: tuple[str, ...] = (
    r"セール(?!ス)",
    r"キャンペーン",
    r"お得(?!意)",
    r"おトク",
    r"今なら",
    r"今だけ",
    r"期間限定",
    r"数量限定",
    r"限定販売",
    r"特価",
    r"お買い得",
    r"お買い求め",
    r"ご?購入はこちら",
    r"ご?注文はこちら",
    r"お申し?込みはこちら",
    r"新(?:商品|製品|発売|作|メニュー|フレーバー)(?:も|を)?ぜひ",
    r"もぜひ(?:お試し|ご利用|ご購入|お買い|ご賞味|お召し上がり|チェック)",
    r"(?:好評)?発売中",
    r"予約受付中",
    r"おすすめ(?:の)?(?:商品|製品|アイテム|メニュー)",
    r"こちらもおすすめ",
    r"お見逃しなく",
    r"セミナー",
    r"ウェビナー",
    r"説明会",
    r"体験会",
    r"ご参加をお待ち",
    r"フォロー(?:&|＆|と)?(?:rt|リツイート|リポスト)",
    r"\b(?:on )?sale\b",
    r"\bcampaign\b",
    r"\bspecial offer\b",
    r"\blimited[- ]time\b",
    r"\b(?:buy|shop|order) now\b",
    r"\bdon'?t miss\b",
    r"\bcheck out our\b",
    r"\bnew (?:product|arrival|release|flavou?r)s?\b",
    r"\b(?:webinar|seminar)s?\b",
    r"\bjoin us (?:at|for)\b",
    r"\bsign up (?:now|today)\b",
    r"\bpromotion\b",
)
_SALES_RES = _compile(DEFAULT_SALES_PATTERNS)


def find_sales(norm: NormalizedText, extra: Sequence[regex.Pattern[str]] = ()) -> list[Finding]:
    """Find selling or promotional phrases (defaults plus the workspace's own terms)."""
    return _find_patterns(norm, [*_SALES_RES, *extra], "promotional phrase")


# --- incentive --------------------------------------------------------------------------------

_NUM = r"\d+(?:[.,]\d+)?"
DEFAULT_INCENTIVE_PATTERNS: tuple[str, ...] = (
    rf"次回[^。!?\n]{{0,15}}?(?:{_NUM}\s*(?:円|%|パーセント)\s*(?:引き?|オフ|off|割引)|引き|割引|値引|無料|サービス|オフ)",
    rf"{_NUM}\s*(?:円|%|パーセント)\s*(?:引き?|オフ|off|割引|値引き?)",
    rf"{_NUM}\s*割\s*(?:引き?|オフ)",
    r"クーポン",
    r"割引券",
    r"値引き?(?:いた|させ|を(?:いた|させ))",
    r"割引(?:いた|させ|を(?:いた|させ|お付け|適用させ))",
    r"返金(?:いた|させ|対応|を(?:いた|させ))",
    r"ポイント(?:を)?(?:付与|進呈|お付け|差し上げ|プレゼント)",
    r"お詫びの(?:品|しるし|印)",
    r"粗品",
    r"(?:プレゼント|サービス)(?:いた|させ)",
    r"(?:無料|無償)で(?:お送り|差し上げ|進呈|ご提供|提供)",
    r"代金(?:は|を)?(?:いただきません|頂きません|無料)",
    r"\bdiscount",
    r"\bcoupons?\b",
    r"\bvouchers?\b",
    r"\brefund",
    r"\bgift cards?\b",
    r"\bpromo codes?\b",
    rf"{_NUM}\s*% off\b",
    r"\bfree of charge\b",
    r"\bon the house\b",
    r"\bfree gift\b",
)
_INCENTIVE_RES = _compile(DEFAULT_INCENTIVE_PATTERNS)


def find_incentives(norm: NormalizedText, extra: Sequence[regex.Pattern[str]] = ()) -> list[Finding]:
    """Find discounts, coupons, refunds or freebies offered in public."""
    return _find_patterns(norm, [*_INCENTIVE_RES, *extra], "offer")


# --- symbol -----------------------------------------------------------------------------------

# Symbols that belong to ordinary business Japanese rather than decoration.
_BUSINESS_SYMBOLS = frozenset("©®™℃℉№〒〶㈱㈲㈹℡")
_KAO_EYES = r"[\^＾´｀`・･ﾟ゜°≧≦><＞＜;；\-－￣*＊•◕ᴗ⌒_＿TＴ]"
_KAO_PART = r"(?:(?![()（）\n])[\p{P}\p{S}\p{Zs}ωДдεロｏoOＯ0ｰーㅂ๑ᴗ꒳TＴ\u0300-\u036f\u3099-\u309c])"
_KAOMOJI_RE = regex.compile(
    r"[ヽ\\＼ノﾉm]?[(（](?=[^()（）\n]*" + _KAO_EYES + r")" + _KAO_PART + r"{2,16}[)）][ノﾉ/／m\\＼;；]*"
    r"|(?<![\p{L}\p{N}])(?:\^_?\^;*|＾_?＾;*|orz|otl|m\(_ _\)m)(?![\p{L}\p{N}])"
    r"|(?<![\p{L}\p{N}:/])[:;][\-^]?[)(dpo3](?![\p{L}\p{N}])",
    regex.IGNORECASE,
)


def _is_allowed(text: str, allowed: frozenset[str]) -> bool:
    return text in allowed or unicodedata.normalize("NFKC", text) in allowed


def find_symbols(draft: str, allowed_symbols: Iterable[str]) -> list[Finding]:
    """Find emoji, kaomoji and decorative symbols (category So) outside the allowed set."""
    allowed = frozenset(allowed_symbols) | frozenset(unicodedata.normalize("NFKC", s) for s in allowed_symbols)
    shown = " ".join(sorted(allowed_symbols)) or "none"
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _KAOMOJI_RE.finditer(draft):
        if not _is_allowed(m.group(), allowed):
            found.append((m.start(), m.end(), "kaomoji"))
        taken.append(m.span())
    for start, end in extract_emoji_with_indices(draft):
        if draft[start:end] == "\ufe0f" or _overlaps((start, end), taken):
            continue
        if not _is_allowed(draft[start:end], allowed):
            found.append((start, end, "emoji"))
        taken.append((start, end))
    for i, ch in enumerate(draft):
        if (
            unicodedata.category(ch) == "So"
            and ch not in _BUSINESS_SYMBOLS
            and not 0x3300 <= ord(ch) <= 0x33FF  # CJK compatibility: ㌔ ㎝ ㍻ ...
            and not _overlaps((i, i + 1), taken)
            and not _is_allowed(ch, allowed)
        ):
            found.append((i, i + 1, "symbol"))
    return [
        Finding(start, end, f"{kind} {quote(draft[start:end])} {_at(start, end)} is not in the allowed set ({shown})")
        for start, end, kind in sorted(found)
    ]


# --- dm ---------------------------------------------------------------------------------------

_DM_PATTERNS = _compile(
    (
        r"(?<![a-z])(?:dm|pm)(?![a-z])",
        r"ダイレクトメッセージ",
        r"(?:個別|別途)に?メッセージ",
        r"メッセージ(?:にて|で|を(?:お送り|送))",
        r"非公開(?:で|の)(?:メッセージ|やり取り|やりとり)",
        r"\b(?:direct|private) message",
        r"\bmessage us\b",
        r"\binbox us\b",
    )
)
_PERSONAL_DATA = (
    r"(?:お?名前|氏名|ご?住所|ご?連絡先|お?電話番号|携帯番号|メール\s?アドレス|メアド|ご?注文番号|会員番号|"
    r"お客様番号|生年月日|パスワード|暗証番号|カード番号|口座番号|アカウント情報|ログイン情報)"
)
_DATA_REQUEST_PATTERNS = _compile(
    (
        _PERSONAL_DATA
        + r"[^。!?\n]{0,25}?(?:お知らせ|教えて|お教え|お聞かせ|お送り|送って|ご返信|返信して|リプライ|ご記載|"
        r"記載して|お書き|書いて|ご入力|入力して)",
        r"\b(?:send|share|tell|give|reply with|provide|post|dm)\s+(?:us|me)?\s*(?:with\s+)?your\s+(?:full\s+)?"
        r"(?:name|address|phone(?: number)?|email(?: address)?|order (?:number|id)|account (?:number|id)|"
        r"password|date of birth|card number)",
    )
)
# Asking someone to enter data in the support form or tell the phone desk is a handoff, not a breach.
_PRIVATE_CHANNEL_RE = regex.compile(r"フォーム|窓口|お問い?合わせページ|サポートページ|専用ページ|マイページ|\bform\b")
_SENTENCE_RE = regex.compile(r"[^。!?\n]+[。!?\n]*")


def find_dm_requests(norm: NormalizedText) -> list[Finding]:
    """Find moves to direct messages and public requests for personal data."""
    findings = _find_patterns(norm, _DM_PATTERNS, "moves the conversation to direct messages:")
    requests: list[Finding] = []
    for sentence in _SENTENCE_RE.finditer(norm.text):
        if _PRIVATE_CHANNEL_RE.search(sentence.group()):
            continue
        for pattern in _DATA_REQUEST_PATTERNS:
            for m in pattern.finditer(norm.text, sentence.start(), sentence.end()):
                start, end = norm.span(m.start(), m.end())
                if not _overlaps((start, end), [(f.start, f.end) for f in findings + requests]):
                    quoted = quote(norm.original[start:end])
                    requests.append(
                        Finding(start, end, f"asks for personal data in public: {quoted} {_at(start, end)}")
                    )
    return sorted(findings + requests, key=lambda f: f.start)


# --- pii --------------------------------------------------------------------------------------

_SEP = r"[-−‐―ー\s]"
_PHONE_RE = regex.compile(
    rf"(?<![\d\-])(?:\+81{_SEP}?\(?0?\)?\d{{1,4}}|\(?0\d{{1,4}}\)?){_SEP}?\d{{1,4}}{_SEP}?\d{{3,4}}(?![\d\-])"
)
_BUSINESS_LINE_PREFIXES = ("0120", "0800", "0570")
_EMAIL_RE = regex.compile(r"(?<![@\w.+\-])[\w.+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+", regex.IGNORECASE)
_POSTAL_RE = regex.compile(rf"〒\s*\d{{3}}{_SEP}?\d{{4}}|(?<![\d\-])\d{{3}}{_SEP}\d{{4}}(?![\d\-])")
_ADDRESS_RE = regex.compile(
    r"(?:\p{Han}{1,4}[都道府県])?[\p{Han}\p{Katakana}ー]{1,8}[市区町村][\p{Han}\p{Katakana}ー]{0,10}"
    r"\d+(?:丁目|番地?|号)?(?:\s*[-−‐ー]\s*\d+)*(?:番地?|号)?"
)
_ORDER_RE = regex.compile(
    r"(?:ご?注文番号|受付番号|注文id|オーダー番号|お?問い?合わせ番号|会員番号|お客様番号|"
    r"order\s*(?:number|no\.?|#|id))\s*(?:[:：は]|is)?\s*[#＃]?\s*(?P<number>[a-z0-9][a-z0-9\-]{3,})",
    regex.IGNORECASE,
)
_CARD_RE = regex.compile(r"(?<!\d)\d{4}(?:[\s\-]\d{4}){2}[\s\-]\d{1,4}(?!\d)")
_LONG_NUMBER_RE = regex.compile(r"(?<!\d)\d{8,}(?!\d)")


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def find_personal_data(norm: NormalizedText, public_contacts: Iterable[str] = ()) -> list[Finding]:
    """Find personal data echoed in public: phone, e-mail, postal code, address, order or card number.

    Toll-free and navigation-dial numbers (0120, 0800, 0570) and the workspace's own public contacts
    are the company's, not the customer's, and pass. Text inside URLs is not examined.
    """
    draft, text = norm.original, norm.text
    own = {fold(c) for c in public_contacts} | {_digits(c) for c in public_contacts if _digits(c)}
    taken = [(e.start, e.end) for e in extract_urls_with_indices(draft)]
    found: list[tuple[int, int, str]] = []

    def add(m: regex.Match[str], kind: str, group: int | str = 0) -> None:
        span = norm.span(*m.span(group))
        if not _overlaps(span, taken):
            taken.append(span)
            found.append((*span, kind))

    for m in _EMAIL_RE.finditer(text):
        if m.group() not in own:
            add(m, "e-mail address")
    for m in _ORDER_RE.finditer(text):
        if sum(ch.isdigit() for ch in m.group("number")) >= 3:
            add(m, "order or member number", "number")
    for m in _CARD_RE.finditer(text):
        add(m, "card number")
    for m in _PHONE_RE.finditer(text):
        digits = _digits(m.group())
        national = "0" + digits[2:].lstrip("0") if digits.startswith("81") else digits
        if not 10 <= len(national) <= 11 or national.startswith(_BUSINESS_LINE_PREFIXES) or digits in own:
            continue
        add(m, "phone number")
    for m in _POSTAL_RE.finditer(text):
        add(m, "postal code")
    for m in _ADDRESS_RE.finditer(text):
        add(m, "address")
    for m in _LONG_NUMBER_RE.finditer(text):
        add(m, "long number (order, account or card?)")
    return [
        Finding(start, end, f"{kind} {quote(draft[start:end])} {_at(start, end)} would be public")
        for start, end, kind in sorted(found)
    ]


# --- signature --------------------------------------------------------------------------------


def name_variants(operator: str) -> list[str]:
    """Return the folded forms an operator may sign with: the full name and each part of it."""
    folded = fold(operator).strip()
    parts = [p for p in regex.split(r"[\s・·]+", folded) if p and not (p.isascii() and len(p) == 1)]
    variants = {"".join(parts), *parts} if parts else set()
    return sorted((v for v in variants if v), key=lambda v: (-len(v), v))


def _name_pattern(operator: str) -> str | None:
    variants = name_variants(operator)
    if not variants:
        return None
    return "(?:" + "|".join(r"[\s・]*".join(regex.escape(ch) for ch in v) for v in variants) + ")"


def _signature_patterns(name: str) -> list[regex.Pattern[str]]:
    return _compile(
        (
            rf"担当(?:者)?\s*(?:の|:|は)?\s*{name}",
            rf"{name}\s*(?:です|でした|がお|が承|が担当|が対応|が回答|がご|より|と申します)",
            rf"[(\[【「<]\s*{name}\s*[)\]】」>]",
            rf"(?m)(?:^|\s)[-—–~/]+\s*{name}\s*$",
            rf"(?:i'm|i am|this is|my name is|name's)\s+{name}(?![a-z])",
            rf"(?<![a-z]){name}\s+(?:here|from)\b",
        )
    )


_GENERIC_SIGNATURE_RES = _compile(
    (
        r"担当(?:者)?の\s*[^\s、。,.!?!?()]{1,12}",
        r"(?<![\p{L}\p{N}])[(【「]\s*(?!笑|汗|泣|涙)\p{L}[\p{L}\s・]{0,15}[)】」]\s*$",
        r"[^\s、。,.!?]{1,12}と申します",
        r"(?:i'm|i am|this is|my name is)\s+\p{L}+",
        r"(?m)(?:^|\s)[-—–~/]+\s*\p{L}[\p{L}\s.]{0,30}$",
    )
)


def find_missing_signature(norm: NormalizedText, operator: str | None) -> list[Finding]:
    """Check that the reply names its operator (「鈴木です」「(鈴木)」「担当の鈴木」 ...)."""
    end = len(norm.original)
    name = _name_pattern(operator) if operator else None
    if operator and name:
        if any(p.search(norm.text) for p in _signature_patterns(name)):
            return []
        shown = operator.strip()
        example = f"e.g. 「担当の{shown}です」 or 「({shown})」"
        return [Finding(end, end, f'the reply does not name the operator "{shown}" ({example}) {_at(end, end)}')]
    if any(p.search(norm.text) for p in _GENERIC_SIGNATURE_RES):
        return []
    return [Finding(end, end, f"the reply is not signed (e.g. 「担当の鈴木です」 or 「(鈴木)」) {_at(end, end)}")]


# --- copy -------------------------------------------------------------------------------------

_HANDLE_RE = regex.compile(r"[@＠][\w.\-]+(?:@[\w.\-]+)?")
_SIGNATURE_SHAPES_RE = regex.compile(
    r"担当(?:者)?の?\s*[^\s、。,.!?]{1,10}?(?:です|でした|より)|[(【「][^()【】「」\d]{1,12}[)】」]\s*$"
)
_NOT_CONTENT_RE = regex.compile(r"[\p{P}\p{S}\p{Z}\s]+")
COPY_MIN_CHARS = 15


def copy_key(text: str, operator: str | None = None) -> str:
    """Reduce a reply to what copy detection compares: folded content without handles or signature."""
    key = _HANDLE_RE.sub("", fold(text))
    key = _SIGNATURE_SHAPES_RE.sub("", key.strip())
    if operator:
        name = _name_pattern(operator)
        if name:
            key = regex.sub(name, "", key)
    return _NOT_CONTENT_RE.sub("", key)


def trigrams(key: str) -> frozenset[str]:
    """Return the set of character 3-grams of key (the key itself when shorter)."""
    if len(key) < 3:
        return frozenset({key}) if key else frozenset()
    return frozenset(key[i : i + 3] for i in range(len(key) - 2))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Return the Jaccard similarity of two n-gram sets (0.0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def find_copies(draft: str, history: Iterable[str], threshold: float, operator: str | None = None) -> list[Finding]:
    """Flag a draft whose 3-gram Jaccard similarity to an earlier sent reply reaches the threshold.

    Both texts are folded (NFKC, case), stripped of @handles, of the operator's name and of
    signature shapes (「担当の佐藤です」, a trailing 「(佐藤)」) and of spaces, punctuation and
    symbols; what remains is compared as sets of character 3-grams. Jaccard |A∩B| / |A∪B| is 1.0
    for the same wording and stays high when only a name, a handle or a few words change, which is
    what pasting a stock reply looks like; replies that merely share a set phrase score low once
    their own content differs. Drafts under COPY_MIN_CHARS characters of content (a bare
    「ありがとうございます！」) are not compared: short courtesies repeat by nature.
    """
    key = copy_key(draft, operator)
    if len(key) < COPY_MIN_CHARS:
        return []
    grams = trigrams(key)
    best_score, best_text = 0.0, ""
    for earlier in history:
        score = similarity(grams, trigrams(copy_key(earlier, operator)))
        if score > best_score:
            best_score, best_text = score, earlier
    if best_score < threshold:
        return []
    end = len(draft)
    percent = int(best_score * 100)
    return [Finding(0, end, f"{percent}% similar to an earlier reply {quote(best_text)} {_at(0, end)}")]
