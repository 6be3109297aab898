"""Benchmark `kizuna match` against a process that only parses the same JSONL.

Generates realistic short Japanese posts and brand rules (seeded), then times whole
processes, start-up included: `python -m kizuna.core.match_cli --rules R < posts > out`
and `python -c <json.loads each line> < posts`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kizuna.core.normalize import normalize


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_MORAE = _words(
    "ア カ サ タ ナ ハ マ ヤ ラ ワ イ キ シ チ ニ ヒ ミ リ ウ ク ス ツ ヌ フ ム ユ ル エ ケ セ テ ネ ヘ メ レ "
    "オ コ ソ ト ノ ホ モ ヨ ロ ガ ギ グ ゲ ゴ ザ ジ ズ ゼ ゾ ダ デ ド バ ビ ブ ベ ボ パ ピ プ ペ ポ "
    "キャ キュ キョ シャ シュ ショ チャ チュ チョ ティ ファ フィ フェ ヴィ"
)
_LATIN_SYLLABLES = _words("po ky ra mu ka to ne ri so la mi zo be ta gu fi no va re xo lu chi ko")
_BRAND_KANJI = _words("明 治 森 永 雪 印 日 清 味 素 富 士 朝 日 亀 田 湖 池 江 崎 丸 大 東 洋 北 海 道 花 王 資 生 堂")
_PRODUCT_WORDS = _words(
    "チョコ アイス ゼロ プレミアム ミニ ビター 抹茶 いちご 限定 新作 ケース 充電器 アプリ ポイント カード "
    "パン ラーメン コーヒー 紅茶 ドリンク シャンプー 洗剤 マスク"
)
_LATIN_PRODUCTS = _words("pro max mini plus air lite zero neo one go")
_TROUBLE = _words("壊れた 届かない 繋がらない 故障 返品 返金 ログインできない 遅延 不良 高すぎ")
_NOISE = _words("プレゼント 懸賞 ゲーム 転売 アフィリエイト 相互フォロー 拡散希望")
_OPENERS = _words(
    "今日 さっき 昨日 朝から 仕事帰りに コンビニで スーパーで 駅前の 久しぶりに やっと ついに 友達と "
    "家族で 会社の近くで 休みの日は 夜中に"
)
_NOUNS = _words(
    "新作 限定品 ケーキ ラーメン コーヒー アイス チョコ お菓子 スマホ アプリ 電車 映画 ゲーム ライブ セール "
    "配送 荷物 店員さん サポート ポイント キャンペーン 天気 会議 猫 犬 お弁当 おにぎり 雑誌 推し 新曲"
)
_PREDICATES = _words(
    "買った 食べた 飲んだ 届いた 届かない 壊れた 美味しい おいしすぎる 最高 微妙 高い 安い 使いにくい "
    "ログインできない 繋がらない 感動した 助かった 困ってる 待ってる 並んでる 売り切れてた 見つけた"
)
_ENDINGS = ("！", "！！", "。", "…", "笑", "w", "www", "（笑）", "😂", "🥺", "✨", "🍫", "？", "〜", "♪", "", "", "")
_LATIN_WORDS = _words("iPhone LINE Switch PS5 OK YouTube Amazon app update bug Wi-Fi NHK banana Android")
_HASHTAGS = _words(
    "#今日のおやつ #新商品 #拡散希望 #PR #懸賞 #プレゼントキャンペーン #エンジニアと繋がりたい #猫のいる暮らし"
)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class Brand:
    """One generated brand: its spellings and official handle."""

    katakana: str
    hiragana: str
    latin: str
    kanji: str
    handle: str


def _to_hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def make_brands(rng: random.Random, count: int) -> list[Brand]:
    """Generate distinct brand names in katakana, hiragana, Latin and kanji.

    Names that occur inside the generic vocabulary (as おい does in 美味しい, once kana
    are folded) are avoided, as a support team would not pick such a keyword.
    """
    vocabulary = normalize(" ".join((*_OPENERS, *_NOUNS, *_PREDICATES, *_PRODUCT_WORDS, *_TROUBLE, *_NOISE)))
    brands: list[Brand] = []
    seen: set[str] = set()
    while len(brands) < count:
        katakana = "".join(rng.choice(_MORAE) for _ in range(rng.randint(3, 4)))
        if rng.random() < 0.4:
            katakana += "ー"
        latin = "".join(rng.choice(_LATIN_SYLLABLES) for _ in range(rng.randint(2, 3)))
        if katakana in seen or latin in seen or normalize(katakana) in vocabulary:
            continue
        seen.update((katakana, latin))
        kanji = "".join(rng.choice(_BRAND_KANJI) for _ in range(2))
        brands.append(Brand(katakana, _to_hiragana(katakana), latin, kanji, f"{latin}_jp"))
    return brands


def make_rules(rng: random.Random, brands: list[Brand], count: int) -> list[tuple[str, str]]:
    """Generate (id, query) rules in the styles support teams write."""
    rules: list[tuple[str, str]] = []
    for index in range(count):
        b = brands[index % len(brands)]
        product = rng.choice(_PRODUCT_WORDS)
        style = rng.randrange(10)
        if style == 0:
            query = b.katakana
        elif style == 1:
            query = f"({b.katakana} OR {b.hiragana} OR {b.latin}) -{b.katakana}ゲーム"
        elif style == 2:
            query = f"{b.katakana} ({product} OR {rng.choice(_PRODUCT_WORDS)})"
        elif style == 3:
            query = f'"{b.latin} {rng.choice(_LATIN_PRODUCTS)}" lang:ja'
        elif style == 4:
            query = f"#{b.katakana} OR @{b.handle}"
        elif style == 5:
            query = f"{b.katakana}{product} -is:repost -from:{b.handle}"
        elif style == 6:
            query = f"{b.kanji}{product} has:link"
        elif style == 7:
            troubles = " OR ".join(rng.sample(_TROUBLE, 3))
            query = f"({b.latin} OR {b.katakana}) ({troubles}) -is:repost"
        elif style == 8:
            query = f"{b.katakana} NOT ({rng.choice(_NOISE)} OR {rng.choice(_NOISE)} OR #PR)"
        else:
            query = f"@{b.handle} is:reply"
        rules.append((f"r{index:04d}-{b.latin}", query))
    return rules


def _brand_mention(rng: random.Random, b: Brand) -> str:
    choice = rng.randrange(9)
    if choice == 0:
        return b.hiragana
    if choice == 1:
        return f" {b.latin} "
    if choice == 2:
        return f" {b.latin.upper()} {rng.choice(_LATIN_PRODUCTS)} "
    if choice == 3:
        return f"#{b.katakana} "
    if choice == 4:
        return f" @{b.handle} "
    if choice == 5:
        return b.kanji + rng.choice(_PRODUCT_WORDS)
    if choice == 6:
        return b.katakana + rng.choice(_TROUBLE)
    return b.katakana + rng.choice(_PRODUCT_WORDS)


def make_posts(rng: random.Random, brands: list[Brand], count: int, brand_rate: float) -> Iterator[dict[str, object]]:
    """Generate JSONL-ready post objects; about brand_rate of them name a brand."""
    for index in range(count):
        parts = [
            rng.choice(_OPENERS),
            rng.choice(_NOUNS),
            "を" if rng.random() < 0.5 else "が",
            rng.choice(_PREDICATES),
        ]
        if rng.random() < brand_rate:
            parts.insert(rng.randrange(len(parts) + 1), _brand_mention(rng, rng.choice(brands)))
        if rng.random() < 0.5:
            parts.append(rng.choice(_ENDINGS))
        if rng.random() < 0.5:
            parts.extend(("\n", rng.choice(_OPENERS), "は", rng.choice(_NOUNS), rng.choice(_PREDICATES)))
        if rng.random() < 0.25:
            parts.append(f" {rng.choice(_LATIN_WORDS)} ")
        if rng.random() < 0.3:
            parts.append(rng.choice(_ENDINGS))
        if rng.random() < 0.12:
            parts.append(f" {rng.choice(_HASHTAGS)}")
        if rng.random() < 0.15:
            parts.append(" https://t.co/" + "".join(rng.choice(_ALNUM) for _ in range(10)))
        if rng.random() < 0.03:
            parts.append("ｶﾞﾁｬ　ＳＳＲ①")
        post: dict[str, object] = {
            "id": str(1_790_000_000_000_000_000 + index),
            "text": "".join(parts),
            "lang": "ja" if rng.random() < 0.95 else "en",
            "author": f"user{rng.randrange(100_000)}",
        }
        if rng.random() < 0.2:
            post["is_repost"] = True
        if rng.random() < 0.15:
            post["is_reply"] = True
        yield post


def write_workload(directory: Path, posts: int, rules: int, seed: int, brand_rate: float) -> tuple[Path, Path]:
    """Write rules.toml and posts.jsonl into directory and return their paths."""
    rng = random.Random(seed)
    brands = make_brands(rng, max(1, rules // 2))
    rules_path = directory / "rules.toml"
    with rules_path.open("w", encoding="utf-8") as out:
        for rule_id, query in make_rules(rng, brands, rules):
            # A JSON string is a valid TOML basic string for these (no control characters).
            out.write(f"[[rules]]\nid = {json.dumps(rule_id)}\nquery = {json.dumps(query, ensure_ascii=False)}\n\n")
    posts_path = directory / "posts.jsonl"
    with posts_path.open("w", encoding="utf-8") as out:
        for post in make_posts(rng, brands, posts, brand_rate):
            out.write(json.dumps(post, ensure_ascii=False))
            out.write("\n")
    return rules_path, posts_path


_PARSE_ONLY = "import json, sys\nfor line in sys.stdin:\n    json.loads(line)\n"


def _run_timed(command: list[str], stdin_path: Path, stdout_path: Path) -> tuple[float, float]:
    # -> (wall seconds, CPU seconds of the child). CPU time is what a busy machine
    # disturbs least; wall time is what the goal is stated in.
    env = dict(os.environ)
    # The child must find this package even when it is not installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH"))))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdin_path.open("rb") as stdin, stdout_path.open("wb") as stdout:
        started = time.perf_counter()
        subprocess.run(command, stdin=stdin, stdout=stdout, check=True, env=env)
        wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _count_matched(out_path: Path) -> tuple[int, int]:
    lines = matched = 0
    with out_path.open("rb") as out:
        for line in out:
            lines += 1
            matched += not line.rstrip().endswith(b'"rules": []}')
    return lines, matched


def main(argv: list[str]) -> int:
    """Generate a workload, time matching against parsing only, and print the figures."""
    parser = argparse.ArgumentParser(prog="kizuna bench match", description=__doc__)
    parser.add_argument("--posts", type=int, default=200_000, help="number of posts (default 200000)")
    parser.add_argument("--rules", type=int, default=1_000, help="number of rules (default 1000)")
    parser.add_argument("--seed", type=int, default=20100401, help="random seed")
    parser.add_argument("--brand-rate", type=float, default=0.08, help="share of posts naming a brand")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process; the best is kept")
    parser.add_argument("--keep", type=Path, help="write the workload here and keep it")
    args = parser.parse_args(argv)

    directory = args.keep or Path(tempfile.mkdtemp(prefix="kizuna-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        rules_path, posts_path = write_workload(directory, args.posts, args.rules, args.seed, args.brand_rate)
        out_path = directory / "out.jsonl"
        match = [sys.executable, "-m", "kizuna.core.match_cli", "--rules", str(rules_path)]
        parse = [sys.executable, "-c", _PARSE_ONLY]
        best = {"match": (float("inf"), float("inf")), "parse": (float("inf"), float("inf"))}
        for _ in range(args.repeat):  # interleaved, so that a busy spell hits both alike
            for name, command, out in (("match", match, out_path), ("parse", parse, directory / "parsed.out")):
                wall, cpu = _run_timed(command, posts_path, out)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        lines, matched = _count_matched(out_path)
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    if lines != args.posts:
        sys.stderr.write(f"kizuna bench match: expected {args.posts} output lines, got {lines}\n")
        return 1
    (match_wall, match_cpu), (parse_wall, parse_cpu) = best["match"], best["parse"]
    print(f"workload: {args.posts} posts, {args.rules} rules, {matched} posts matched ({matched / args.posts:.1%})")
    print(
        f"match  (kizuna.core.match_cli):  {match_wall:.3f} s  {args.posts / match_wall:9,.0f} posts/s  cpu {match_cpu:.3f} s"
    )
    print(
        f"parse  (json.loads each line):   {parse_wall:.3f} s  {args.posts / parse_wall:9,.0f} posts/s  cpu {parse_cpu:.3f} s"
    )
    print(f"ratio match/parse: {match_wall / parse_wall:.2f}x wall, {match_cpu / parse_cpu:.2f}x cpu")
    print(f"(best of {args.repeat} interleaved runs each, whole processes, start-up included)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
