"""Cue words of the triage model: readable evidence for reasons, features and risk overrides.

Cues are written as people write them (Japanese and English) and compared after
`normalize`, so ひらがな/カタカナ, full/half width and case do not matter. Each cue
group is one feature of the model (how often its cues occur), so the model learns how
much each group counts; the reasons an operator sees quote the cues found.

`FORCE_HIGH` cues are the exception: health and safety, legal and regulator threats,
money taken, leaked personal data, discrimination and calls to spread. A post that uses
one is high risk whatever the model says, because missing one costs far more than an
operator's extra look (the risk goal is recall).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import ahocorasick_rs

from kizuna.core.normalize import normalize

INTENTS = ("praise", "question", "defect", "staff", "urgent", "delivery", "request", "complaint", "mention", "noise")
RESPONSES = ("thanks", "apology", "guidance", "none")
RISKS = ("low", "medium", "high")
# Intents whose post says something went wrong: large reach makes their risk high.
NEGATIVE_INTENTS = frozenset({"defect", "staff", "urgent", "delivery", "complaint"})

# Word lists are kept dense, several to a line, to be read as lists.
# fmt: off
INTENT_CUES: Mapping[str, tuple[str, ...]] = {
    "praise": (
        "美味しい", "おいしい", "うまい", "うま!", "好き", "最高", "神", "ありがとう", "ありがたい", "感謝",
        "助かった", "助かる", "助かります", "便利", "快適", "嬉しい", "うれしい", "感動", "優しい", "丁寧",
        "満足", "おすすめ", "さすが", "天才", "やっぱり", "リピ", "大好き", "素晴らしい", "お疲れ様", "誠実",
        "love", "great", "delicious", "thank", "thanks", "amazing", "awesome", "obsessed", "perfect",
        "excellent", "impressed", "kudos", "the best", "so good", "recommend",
    ),
    "question": (
        "教えて", "ですか", "ますか", "でしょうか", "方法", "どうやって", "どこで", "どこから", "どこに",
        "いつ", "知りたい", "できる?", "できますか", "かな?", "わからない", "分からない", "どうなる",
        "って何", "どっち", "大丈夫?", "たっけ", "何時", "何枚", "何日",
        "how do", "how can", "how long", "where can", "where do", "what does", "what is", "is there",
        "can i", "do you", "does anyone", "anyone know", "?",
    ),
    "defect": (
        "壊れ", "故障", "割れ", "破れ", "欠け", "ほつれ", "不具合", "バグ", "エラー", "落ちる", "落ちた",
        "固まる", "固まった", "フリーズ", "起動しない", "動かない", "止まる", "止まった", "つながらない",
        "繋がらない", "ログインできない", "反映されない", "表示されない", "変な音", "異音", "水漏れ", "漏れ",
        "カビ", "色落ち", "焦げ", "生焼け", "初期化", "消えて", "消えた", "使えない", "できない", "障害",
        "不良", "勝手に再起動", "圏外", "二重", "引き落とされ", "身に覚えのない",
        "broken", "broke", "crash", "crashes", "error", "bug", "doesn't work", "does not work",
        "not working", "stopped working", "won't", "leak", "glitch", "froze", "freezes", "defective",
        "charged twice", "never showed up in",
    ),
    "staff": (
        "店員", "スタッフ", "接客", "態度", "担当者", "担当の", "駅員", "運転手", "乗務員", "講師", "窓口",
        "対応が", "対応悪", "対応ひど", "舌打ち", "言われた", "電話対応", "サポートの人", "業者", "配達員",
        "営業", "放置", "店長", "説明なし", "謝罪なし", "折り返し", "たらい回し", "つながらない電話",
        "rude", "staff", "clerk", "employee", "driver", "agent", "attitude", "yelled", "ignored me",
        "customer service", "support team",
    ),
    "urgent": (
        "今すぐ", "至急", "急ぎ", "助けて", "どうしよう", "どうすれば", "間に合わない", "間に合わ", "今日中",
        "今夜中", "今まさに", "止めたい", "止めるには", "止めるの", "落とした", "盗まれ", "なくした",
        "閉じ込め", "急病", "あと10分", "あと5分", "あと30分", "あと1時間", "分後", "出発まで", "!!",
        "urgent", "asap", "help", "right now", "immediately", "lost my", "in 30 min", "emergency",
    ),
    "delivery": (
        "届かない", "届いた", "届きますか", "届く", "まだ来ない", "来ない", "配送", "発送", "配達", "注文",
        "在庫", "品切れ", "売り切れ", "欠品", "入荷", "再販", "置いてない", "売ってない", "荷物", "置き配",
        "郵送", "定期便", "到着", "工事", "違う商品", "足りなかった", "ロストバゲージ",
        "delivery", "deliver", "delivered", "shipping", "shipped", "arrive", "arrived", "out of stock",
        "sold out", "order", "package", "tracking", "parcel",
    ),
    "request": (
        "してほしい", "して欲しい", "ほしい", "欲しい", "出して", "復活", "希望", "増やして", "できるように",
        "あったら", "くれたら", "してください", "お願い", "対応して", "作って", "検討して", "導入して",
        "please add", "please make", "please bring", "please let", "please put", "wish", "would love",
        "hope you", "could you add", "should add", "let us", "bring back",
    ),
    "complaint": (
        "高い", "値上げ", "改悪", "減った", "小さくなった", "残念", "がっかり", "不満", "納得いかない",
        "ひどい", "最悪", "遅い", "長すぎ", "聞いてない", "勝手に", "いらない", "まずい", "微妙", "高すぎ",
        "めんどくさ", "面倒", "不便", "わかりにくい", "分かりにくい", "しつこい", "ペラペラ", "写真と違う",
        "disappointed", "too expensive", "worst", "terrible", "ridiculous", "annoying", "overpriced",
        "waste of", "pain",
    ),
    "mention": (
        "見かけた", "広告", "cm", "見た", "使ってる", "通勤", "今日の", "いつもの", "らしい", "ニュース",
        "saw", "ad", "commercial",
    ),
    "noise": (
        "プレゼント企画", "【プレゼント】", "フォロー&rt", "フォローとrt", "フォロー&リポスト", "rtで", "抽選で",
        "当たる", "懸賞", "相互フォロー", "#懸賞", "という曲", "って曲", "歌詞", "giveaway", "follow and rt",
        "follow & rt", "lyrics", "as they say",
    ),
}

# Each group: cues that make a post about the brand high risk on their own (they override the model).
FORCE_HIGH: Mapping[str, tuple[str, ...]] = {
    "health and safety": (
        "異物", "食中毒", "嘔吐と下痢", "お腹壊", "じんましん", "蕁麻疹", "発疹", "怪我", "ケガ", "けが", "大ケガ",
        "火傷", "やけど", "発火", "発煙", "煙が出", "煙出", "焦げ臭", "溶けかけ", "溶けたような", "火事", "感電",
        "ショートしそう", "破片", "針金", "金属片", "金属の", "プラスチック片", "意識がない", "命に関わ", "人の命",
        "命預", "転倒", "生焼け", "アンモニア臭", "カビ臭", "喘息",
        # Foreign matter as people write it, and an allergic reaction by its symptoms.
        "髪の毛入", "髪の毛が入", "毛が入って", "虫が入って", "虫入って", "喉がかゆ", "喉かゆ", "口の中がかゆ",
        "唇が腫れ", "息が苦し", "息苦し", "アナフィラキシー", "アレルギー反応", "アレルギー出",
        "hair in my", "a hair in", "bug in my", "throat is itchy", "itchy throat", "anaphylaxis", "epipen",
        "food poisoning", "allergic reaction", "injury", "injured", "caught fire", "on fire", "smoking",
        "sparks", "piece of metal", "piece of hard plastic", "piece of glass", "unconscious", "指を挟", "指挟",
        "ドアに挟まれ", "fingers caught", "caught in the door",
        # Injury, burning and a reaction of the skin as people write them.
        "焦げたにおい", "焦げた匂い", "焦げたニオイ", "焦げくさ", "頭打", "頭を打", "腫れ", "かぶれ", "火花",
        "吐き気", "burning smell", "smells like burning", "smelled like burning", "hit my head", "swollen",
        "bleeding",
    ),
    "legal or regulator": (
        "消費者センター", "国民生活センター", "消費者庁", "保健所", "訴え", "訴訟", "弁護士", "裁判", "警察",
        "通報", "金融庁", "国交省", "国土交通省", "総務省", "法違反", "薬機法", "特定商取引法", "特商法", "景表法",
        "賠償", "lawyer", "sue you", "sue them", "suing", "lawsuit", "police", "regulator", "legal action",
    ),
    "personal data": (
        "個人情報", "情報漏", "漏洩", "流出", "他人の情報", "知らない住所", "知らない人の住所", "丸見え", "丸聞こえ",
        "他の生徒の", "data breach", "leaked", "personal information", "personal data",
    ),
    "discrimination or harassment": (
        "差別", "セクハラ", "パワハラ", "痴漢", "笑いもの", "笑いながら", "高齢者狙い", "押し売り", "嘘ついて",
        "しつこくdm", "体型について", "体型いじり", "容姿いじり", "body shaming", "discrimination", "harass",
        "racist", "sexist",
    ),
    "spreading": (
        "拡散希望", "#拡散", "拡散して", "みんな気をつけて", "本当に気をつけて", "気をつけてください", "同じ被害",
        "spread the word", "everyone be careful",
    ),
}

# The same, for cues that also occur in thanks and questions ("アレルギー表はどこ?"): they force
# high only when the post reports a problem (a negative intent).
HIGH_WHEN_NEGATIVE: Mapping[str, tuple[str, ...]] = {
    "health and safety": (
        "嘔吐", "下痢", "腹痛", "アレルギー", "熱中症", "救急", "急病", "ぐったり", "飲んじゃった", "食べちゃった",
        "差しちゃった", "飲んで大丈夫", "煙", "危ない", "熱湯", "噴き出", "シートベルト", "ブレーキ", "帰ってこない",
        "帰って来ない", "迷子", "行方不明", "allergic", "allergy", "smoke", "ambulance", "hospital",
        "scalding", "missing child", "seatbelt", "seat belt", "brakes",
        "熱くなって", "骨折", "捻挫", "打撲", "出血", "転んで", "湿疹", "酸っぱ", "腐って", "spoiled", "rotten",
        "moldy", "gone off", "sprained",
    ),
    "money lost": (
        "二重に引き落と", "二重で引き落と", "二重に請求", "二重請求", "2回引", "二回引", "2回請求", "2回分", "2回通",
        "不正利用", "身に覚えのない", "乗っ取", "返金されない", "返金しない", "返金まだ", "返金の連絡もない",
        "不正送金", "詐欺", "騙", "引き落としが止まらない", "請求が止まらない", "残高に反映されない", "引かれてる",
        "返して", "charged twice", "double charged", "charged me twice", "unauthorized", "fraud", "stole",
        "stolen", "never made", "hacked", "charges on my", "never showed up", "お金だけ取られ", "お金だけ引かれ",
        "took my money", "money was taken",
        # A transfer sent to the wrong account, to be called back (組戻し) before it is spent.
        "組戻し", "組み戻し", "誤振込", "誤振り込み", "振込先を間違", "振込先間違", "wrong account",
    ),
    "personal data": (
        "位置情報が勝手", "位置情報が漏", "自宅がバレ", "住所がバレ", "パスワード変更", "ログイン履歴",
        "他人の注文", "別の人の注文", "他の人の注文", "別のお客さんの",
        "別の客の", "someone else's order", "someone else's name", "someone else's address", "another customer's",
        # Someone else's papers or plans shown to us, ours to them.
        "他人宛", "他人の書類", "他人の予定", "知らない人の予定",
    ),
    "accessibility": ("車椅子", "車いす", "wheelchair", "盲導犬", "guide dog"),
    "urgent harm": (
        "miss my connection", "閉じ込め", "間に合わない!!", "あと2時間", "今夜中に必要",
        # Stranded right now (GUIDE.md: stranded or unsafe is high).
        "帰れない", "帰れなくなった", "帰りの便がない", "帰りの便もない", "帰る便がない", "帰る手段がない",
        "立ち往生", "足止め", "stranded", "no way home",
    ),
}

# Semantic groups: features only (the model learns how much each counts), not shown as reasons.
TOPIC_CUES: Mapping[str, tuple[str, ...]] = {
    "people": (
        "店員", "スタッフ", "担当", "駅員", "運転手", "車掌", "乗務員", "講師", "先生", "店長", "営業", "業者",
        "配達員", "サポートの", "オペレーター", "窓口の", "教室長", "係員", "ca", "clerk", "staff", "driver",
        "agent", "teacher", "employee", "crew", "manager", "operator",
    ),
    "people acting": (
        "言われた", "された", "されて", "って言", "態度", "舌打ち", "無視", "怒鳴", "大声", "謝罪なし", "説明なし",
        "取り合", "断られ", "追い返", "決めつけ", "放置", "見下", "told me", "yelled", "refused", "ignored",
    ),
    "kindness": (
        "親切", "優しい", "丁寧", "神対応", "感謝", "ありがとう", "助けて", "助かった", "救われ", "届けてくれ",
        "してくれた", "くれて", "いただき", "kind", "helpful", "thank", "heroes", "lifesaver",
    ),
    "good feeling": (
        "最高", "好き", "美味", "おいし", "うまい", "嬉し", "楽し", "快適", "便利", "神", "感動", "満足", "幸せ",
        "癒", "安心", "すごい", "推し", "love", "great", "amazing", "good", "nice", "happy", "best",
    ),
    "bad feeling": (
        "最悪", "ひどい", "酷い", "がっかり", "残念", "悲しい", "イライラ", "うんざり", "許せない", "ありえない",
        "あり得ない", "不満", "納得", "微妙", "困る", "困って", "怖い", "痛い", "二度と", "terrible", "worst",
        "awful", "disappointed", "annoyed", "angry",
    ),
    "malfunction": (
        "壊れ", "故障", "エラー", "不具合", "動かない", "止まっ", "落ち", "固ま", "つながらない", "繋がらない",
        "できない", "されない", "ならない", "しない", "消え", "反応しない", "点滅", "異音", "漏れ", "破損",
        "not working", "doesn't", "won't", "can't", "cannot", "failed", "error", "crash",
    ),
    "product flaw": (
        "入って", "混ざ", "欠け", "割れ", "破れ", "ほつれ", "色落ち", "粉々", "カビ", "変な味", "臭い", "傷",
        "誤植", "間違って", "不良", "defect", "broken", "damaged", "stain",
    ),
    "money": (
        "円", "料金", "値段", "価格", "請求", "返金", "引き落と", "手数料", "年会費", "月謝", "送料", "払", "課金",
        "yen", "price", "fee", "charge", "refund", "cost",
    ),
    "price up": ("値上げ", "高い", "高すぎ", "改悪", "減っ", "小さくなっ", "有料化", "廃止", "終了", "too expensive"),
    "time pressure": (
        "今すぐ", "至急", "急いで", "間に合", "あと", "分で", "時間で", "今夜", "今日中", "明日の朝", "締め切り",
        "締切", "もうすぐ", "!!", "now", "asap", "minutes", "tonight",
    ),
    "loss or theft": ("落とした", "なくした", "無くした", "盗まれ", "置き忘れ", "忘れ物", "紛失", "lost", "stolen"),
    "shipping": (
        "届", "配送", "発送", "配達", "荷物", "到着", "郵送", "宅配", "置き配", "定期便", "在庫", "入荷", "欠品",
        "品切れ", "売り切れ", "予約", "注文", "工事", "delivery", "shipping", "arrive", "order", "stock",
    ),
    "waiting": ("まだ", "来ない", "待っ", "遅れ", "遅延", "音沙汰", "連絡もな", "連絡な", "still", "waiting", "late"),
    "wish": (
        "ほしい", "欲しい", "てほしい", "てください", "くれたら", "あったら", "なったら", "嬉しいな", "いいのに",
        "希望", "要望", "お願い", "増やして", "復活", "再販", "please", "wish", "would love", "should", "hope",
    ),
    "asking": (
        "?", "ですか", "ますか", "でしょうか", "かな", "どう", "どこ", "いつ", "なに", "何", "どれ", "どの",
        "教えて", "知りたい", "って", "how", "what", "where", "when", "which", "can i", "is it",
    ),
    "sarcasm": ("さすが", "今日も", "伝統芸", "ありがとう(", "おかげで", "素晴らしい", "天才", "恒例", "as always"),
    "everyday life": (
        "今日", "朝", "夜", "通勤", "帰り", "家族", "友達", "子ども", "息子", "娘", "旅行", "週末", "散歩", "昼",
        "today", "morning", "weekend", "friend",
    ),
    "not about a product": (
        "曲", "歌", "映画", "アニメ", "ドラマ", "名前", "花", "空", "雪", "雨", "風", "天気", "景色", "ペット",
        "猫", "犬", "赤ちゃん", "懸賞", "プレゼント", "抽選", "フォロー", "song", "movie", "weather", "sky",
    ),
}

# Raise the risk the model sees without forcing it (learned weight).
RISK_HINTS: tuple[str, ...] = (
    "返金", "返して", "請求", "引き落と", "補償", "高齢", "子ども", "子供", "娘", "息子", "赤ちゃん",
    "怖い", "危ない", "危険", "許せない", "二度と", "謝罪", "賃貸", "repeat", "refund", "dangerous", "scary",
)

# Response hints: delivery and complaint posts get an apology when we are at fault.
RESPONSE_CUES: Mapping[str, tuple[str, ...]] = {
    "apology": (
        "まだ来ない", "来ない", "届かない", "届いてない", "遅れ", "違う", "間違", "足りな", "壊れて届",
        "キャンセルしたのに", "解約したのに", "待ったけど", "連絡もなし", "連絡なし", "返金", "never showed",
        "wrong", "missing", "late", "nothing at my door",
    ),
    "guidance": (
        "いつ", "どこ", "どう", "?", "ますか", "ですか", "方法", "when", "where", "how",
    ),
    # Whose doing the trouble is decides apology or guidance (GUIDE.md, urgent and delivery):
    # ours (a promise broken, our outage, our block on a card) or theirs and the world's (a card
    # they lost, a typo, the weather).
    "our doing": (
        "のせいで", "言われてたのに", "って言ってたのに", "予約してたのに", "予約したのに", "約束", "のはずが",
        "はずなのに", "直ったはず", "直りましたって", "障害", "メンテ", "延長", "止められ", "停止され", "凍結され",
        "ロックされ", "勝手に", "過ぎても", "過ぎたのに", "予定日を過ぎ", "予定日過ぎ",
        "your system", "your app", "your site", "your fault", "flagged", "suspended", "blocked", "you promised",
        "was promised", "supposed to",
    ),
    "their doing": (
        "忘れた", "忘れて", "落とした", "なくした", "無くした", "失くした", "置き忘れ", "間違えて", "うっかり",
        "自分で", "自分の", "地震", "台風", "大雪", "大雨", "事故渋滞", "渋滞", "天候", "予定では", "予定日は",
        "forgot", "i lost", "lost my", "left my", "dropped my", "my mistake", "my fault", "by mistake",
        "accidentally", "earthquake", "typhoon", "snowstorm", "traffic",
    ),
}

# fmt: on

LARGE_REACH = 10_000

# Money: an amount of a few thousand yen or more (GUIDE.md's "noticeable amount") in a post that
# says something of ours failed (a defect, a parcel, a person of ours, trouble now) is money lost
# or charged wrongly, and high risk. Complaints are left out: there an amount is mostly a price.
# In the training sets (train.jsonl, fresh … fresh14), 279 of 304 such posts of those intents are
# labelled high.
MONEY_INTENTS = frozenset({"defect", "delivery", "staff", "urgent"})
NOTICEABLE_YEN = 3_000
YEN_PER_UNIT = {"$": 150, "€": 160, "£": 190}
# Over normalized text (full-width digits and ￥ folded): 18,700円 · 2万4千円 · 1万円 · 5千円 ·
# ¥12,000 · $45 · €30 · 5,000 yen, and tens of thousands without 円 where money is sent or
# taken (12万送っちゃった, 3万引かれた; normalized, so hiragana reads as katakana).
_AMOUNT = re.compile(
    r"(?P<n>\d[\d,]*(?:\.\d+)?)\s*(?P<man>万)?(?:\s*(?P<sen>\d)千)?\s*(?:円|yen\b)"
    r"|(?P<k>\d+)千円"
    r"|¥\s*(?P<yen>\d[\d,]*)"
    r"|(?P<unit>[$€£])\s*(?P<foreign>\d[\d,]*(?:\.\d+)?)"
    r"|(?P<bare>\d[\d,]*(?:\.\d+)?)\s*万(?=\s*[モヲ]?\s*(?:送|振リ?込|払|引キ?落ト|引カレ|引キ?出|取ラレ|請求|課金|チャージ))"
)


def money_amounts(normalized: str) -> list[tuple[int, int, int]]:
    """Return each amount of money in a normalized text: (start, end, value in yen)."""
    found = []
    for m in _AMOUNT.finditer(normalized):
        if m["n"]:
            value = float(m["n"].replace(",", "")) * (10_000 if m["man"] else 1) + int(m["sen"] or 0) * 1_000
        elif m["k"]:
            value = int(m["k"]) * 1_000
        elif m["yen"]:
            value = float(m["yen"].replace(",", ""))
        elif m["bare"]:
            value = float(m["bare"].replace(",", "")) * 10_000
        else:
            value = float(m["foreign"].replace(",", "")) * YEN_PER_UNIT[m["unit"]]
        found.append((m.start(), m.end(), int(value)))
    return found


@dataclass(frozen=True)
class Cue:
    shown: str  # as written in the lexicon
    group: str  # "intent:defect", "high:money lost", "risk", "response:apology"


@dataclass(frozen=True)
class CueHit:
    cue: Cue
    start: int  # character offsets in the normalized text
    end: int


class Lexicon:
    """Every cue of this module, compiled into one automaton over normalized text."""

    def __init__(self) -> None:
        cues: dict[str, list[Cue]] = {}
        groups: list[tuple[str, tuple[str, ...]]] = [(f"intent:{k}", v) for k, v in INTENT_CUES.items()]
        groups += [(f"high:{k}", v) for k, v in FORCE_HIGH.items()]
        groups += [(f"high-if-negative:{k}", v) for k, v in HIGH_WHEN_NEGATIVE.items()]
        groups += [(f"topic:{k}", v) for k, v in TOPIC_CUES.items()]
        groups += [("risk", RISK_HINTS)]
        groups += [(f"response:{k}", v) for k, v in RESPONSE_CUES.items()]
        for group, words in groups:
            for word in words:
                key = normalize(word)
                if key:
                    cues.setdefault(key, []).append(Cue(word, group))
        self.patterns = list(cues)
        self.cues = [tuple(cues[p]) for p in self.patterns]
        self.groups = tuple(dict.fromkeys(group for group, _ in groups))
        group_index = {g: i for i, g in enumerate(self.groups)}
        self._pattern_groups = [tuple(group_index[c.group] for c in cs) for cs in self.cues]
        # An English cue must be a whole word ("ad" is not in "add"): check its ends.
        self._edges = [(_is_word_char(p[0]), _is_word_char(p[-1])) for p in self.patterns]
        self._automaton = ahocorasick_rs.AhoCorasick(self.patterns)

    def _matches(self, normalized: str) -> list[tuple[int, int, int]]:
        found = self._automaton.find_matches_as_indexes(normalized, overlapping=True)
        edges = self._edges
        size = len(normalized)
        return [
            (i, start, end)
            for i, start, end in found
            if not (edges[i][0] and start > 0 and _is_word_char(normalized[start - 1]))
            and not (edges[i][1] and end < size and _is_word_char(normalized[end]))
        ]

    def find(self, normalized: str) -> list[CueHit]:
        """Return every cue occurrence (overlapping ones too) in a normalized text."""
        return [CueHit(cue, start, end) for i, start, end in self._matches(normalized) for cue in self.cues[i]]

    def group_counts(self, normalized: str) -> list[int]:
        """Return how many cues of each group occur in a normalized text (in `groups` order)."""
        counts = [0] * len(self.groups)
        pattern_groups = self._pattern_groups
        for i, _, _ in self._matches(normalized):
            for g in pattern_groups[i]:
                counts[g] += 1
        return counts


def _is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


_LEXICON: Lexicon | None = None


def lexicon() -> Lexicon:
    """Return the compiled lexicon (built once)."""
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = Lexicon()
    return _LEXICON
