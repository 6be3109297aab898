"""The reply policy: its configuration and each of its rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core.policy import DEFAULT_SEVERITIES, RULE_IDS, LintResult, Policy, PolicyError, Violation, lint

SIGNED = "(鈴木)"


def check(draft: str, platform: str = "x", policy: Policy | None = None, **kwargs: Any) -> LintResult:
    kwargs.setdefault("operator", "鈴木")
    return lint(draft, platform=platform, policy=policy or Policy(), **kwargs)


def rules_of(result: LintResult) -> list[str]:
    return [v.rule for v in result.violations]


def only(result: LintResult, rule: str) -> list[Violation]:
    return [v for v in result.violations if v.rule == rule]


def flagged(draft: str, rule: str, **kwargs: Any) -> list[str]:
    """Return the draft text under each violation of one rule."""
    return [draft[v.span[0] : v.span[1]] for v in only(check(draft, **kwargs), rule)]


# --- configuration ------------------------------------------------------------------------------


def test_it_defaults_to_a_strict_policy() -> None:
    policy = Policy()
    assert policy.version == 1
    assert {rule: policy.severity(rule) for rule in RULE_IDS} == DEFAULT_SEVERITIES
    assert [r for r in RULE_IDS if policy.severity(r) == "warn"] == ["copy"]
    assert policy.allowed_symbols == ("☆", "♪", "!", "！")


def test_it_loads_the_policy_table_of_the_demo_workspace() -> None:
    policy = Policy.from_dict({"version": 1, "allowed_symbols": ["☆", "♪", "!", "！"]})
    assert policy == Policy()


def test_it_loads_every_setting() -> None:
    policy = Policy.from_dict(
        {
            "version": 4,
            "rules": {"sales": "warn", "copy": "block", "symbol": "off"},
            "sales_terms": ["福袋"],
            "incentive_terms": ["おまけ"],
            "allowed_symbols": ["★"],
            "public_contacts": ["03-1234-5678"],
            "copy_threshold": 0.9,
            "mastodon_limit": 1000,
        }
    )
    assert policy.version == 4
    assert (policy.severity("sales"), policy.severity("copy"), policy.severity("symbol")) == ("warn", "block", "off")
    assert policy.severity("pii") == "block"
    assert policy.sales_terms == ("福袋",)
    assert policy.allowed_symbols == ("★",)
    assert (policy.copy_threshold, policy.mastodon_limit) == (0.9, 1000)
    assert Policy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"versoin": 2}, "unknown key 'versoin'"),
        ({"version": "2"}, "version must be a positive integer"),
        ({"version": 0}, "version must be a positive integer"),
        ({"version": True}, "version must be a positive integer"),
        ({"rules": {"sale": "block"}}, "unknown rule 'sale'"),
        ({"rules": {"sales": "blocker"}}, "sales: severity must be"),
        ({"rules": ["sales"]}, r"\[policy.rules\] must be a table"),
        ({"sales_terms": "セール"}, "sales_terms must be a list of non-empty strings"),
        ({"allowed_symbols": ["☆", 1]}, "allowed_symbols must be a list"),
        ({"copy_threshold": 1.5}, r"copy_threshold must be a number in \(0, 1\]"),
        ({"copy_threshold": 0}, "copy_threshold"),
        ({"mastodon_limit": -1}, "mastodon_limit must be a positive integer"),
    ],
)
def test_it_names_what_is_wrong_in_a_bad_policy_table(table: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(table)


def test_it_records_the_policy_version_a_reply_passed() -> None:
    result = check(f"ありがとうございます！{SIGNED}", policy=Policy(version=7))
    assert result.policy_version == 7
    assert result.violations == ()


def test_it_skips_rules_that_are_off() -> None:
    policy = Policy.from_dict({"rules": {"sales": "off", "signature": "off"}})
    assert check("今ならセール中です", policy=policy).violations == ()


def test_it_rejects_an_unknown_platform() -> None:
    with pytest.raises(ValueError, match="threads"):
        check("hi", platform="threads")


def test_it_lets_a_good_reply_through() -> None:
    draft = (
        "@hanako こんにちは、ポッキー担当の鈴木です。箱が潰れていたとのこと、ご不便をおかけして申し訳ございません。"
        "お手数ですが、お問い合わせフォームからご注文番号をお知らせいただけますでしょうか☆"
    )
    result = check(draft)
    assert result.violations == ()
    assert result.blocked is False
    assert result.to_dict() == {"length": {"used": result.length.used, "limit": 280}, "violations": []}


# --- length -------------------------------------------------------------------------------------


def test_it_blocks_a_reply_over_the_x_limit_and_points_at_the_overflow() -> None:
    draft = "あ" * 150 + SIGNED
    [violation] = only(check(draft), "length")
    assert violation.severity == "block"
    assert violation.span == (140, len(draft))
    assert violation.message.startswith("length: 306 of 280 weighted characters on x (26 over)")


def test_it_uses_the_mastodon_limit_of_the_policy() -> None:
    draft = "あ" * 120 + SIGNED
    assert only(check(draft, platform="mastodon"), "length") == []
    [violation] = only(check(draft, platform="mastodon", policy=Policy(mastodon_limit=100)), "length")
    assert violation.span == (100, len(draft))
    assert check(draft, platform="mastodon", policy=Policy(mastodon_limit=100)).length.limit == 100


def test_it_blocks_a_bluesky_reply_over_300_graphemes() -> None:
    draft = "ね" * 310 + SIGNED
    [violation] = only(check(draft, platform="bluesky"), "length")
    assert violation.span == (300, len(draft))
    assert "314 of 300 graphemes on bluesky" in violation.message


# --- signature ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    [
        "ありがとうございます。鈴木です。",
        "ありがとうございます！(鈴木)",
        "ありがとうございます！（鈴木）",
        "ポッキー担当の鈴木がお答えします。ありがとうございます。",
        "担当：鈴木",
        "ありがとうございます\n— 鈴木",
    ],
)
def test_it_accepts_a_reply_signed_by_the_operator(draft: str) -> None:
    assert only(check(draft, operator="鈴木"), "signature") == []


def test_it_accepts_the_family_name_of_a_full_display_name() -> None:
    assert only(check("鈴木です。ありがとうございます。", operator="鈴木 太郎"), "signature") == []
    assert only(check("Thanks for writing in! This is Taro.", operator="Taro Suzuki"), "signature") == []


def test_it_blocks_a_reply_that_does_not_name_the_operator() -> None:
    draft = "鈴木様、ありがとうございます。担当の佐藤です。"
    [violation] = only(check(draft, operator="鈴木"), "signature")
    assert violation.severity == "block"
    assert violation.span == (len(draft), len(draft))
    assert 'does not name the operator "鈴木"' in violation.message


def test_it_accepts_any_signature_shape_when_the_operator_is_unknown() -> None:
    assert only(check("ありがとうございます。担当の佐藤です。", operator=None), "signature") == []
    assert only(check("ありがとうございます！(佐藤)", operator=None), "signature") == []
    [violation] = only(check("ありがとうございます！", operator=None), "signature")
    assert "not signed" in violation.message


# --- sales --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "phrases"),
    [
        ("只今セール中です！", ["セール"]),
        ("キャンペーンも実施中です", ["キャンペーン"]),
        ("こちらがお得です", ["お得"]),
        ("今なら送料無料です", ["今なら"]),
        ("ご購入はこちらから", ["ご購入はこちら"]),
        ("新商品もぜひお試しください", ["新商品もぜひお試し"]),
        ("来月のセミナーにもぜひご参加ください", ["セミナー"]),
        ("只今ｾｰﾙ中です", ["ｾｰﾙ"]),
        ("Check out our new flavors!", ["Check out our", "new flavors"]),
    ],
)
def test_it_blocks_selling(draft: str, phrases: list[str]) -> None:
    assert flagged(draft + SIGNED, "sales") == phrases


@pytest.mark.parametrize(
    "draft",
    [
        "セールス担当より折り返しご連絡いたします",
        "お得意様窓口をご案内いたします",
        "お手数ですが、再起動をお試しください",
        "設定の変更をおすすめします",
        "The sales team will call you back",
    ],
)
def test_it_does_not_mistake_support_for_selling(draft: str) -> None:
    assert flagged(draft + SIGNED, "sales") == []


def test_it_names_the_promotional_phrase_and_where_it_is() -> None:
    draft = "ご連絡ありがとうございます。今ならお得です(鈴木)"
    messages = [v.message for v in only(check(draft), "sales")]
    assert messages == ['sales: promotional phrase "今なら" at 14–17', 'sales: promotional phrase "お得" at 17–19']


def test_it_adds_the_workspace_sales_terms() -> None:
    policy = Policy.from_dict({"sales_terms": ["福袋", "Lucky Bag"]})
    assert flagged("福袋もございます。Lucky bag too" + SIGNED, "sales", policy=policy) == ["福袋", "Lucky bag"]


# --- incentive ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "offer"),
    [
        ("お詫びに次回100円引きとさせていただきます", "次回100円引き"),
        ("10%オフのクーポンをお送りします", "10%オフ"),
        ("代わりにクーポンを差し上げます", "クーポン"),
        ("全額返金いたします", "返金いた"),
        ("We will refund your order", "refund"),
    ],
)
def test_it_blocks_offers_made_to_quiet_a_complaint(draft: str, offer: str) -> None:
    assert flagged(draft + SIGNED, "incentive")[0] == offer


def test_it_does_not_flag_talk_about_prices() -> None:
    assert flagged("割引は店頭価格に適用されません" + SIGNED, "incentive") == []


# --- symbol -------------------------------------------------------------------------------------


def test_it_allows_the_agreed_symbols() -> None:
    assert flagged("ありがとうございます☆またどうぞ♪!！" + SIGNED, "symbol") == []


@pytest.mark.parametrize(
    ("draft", "found"),
    [
        ("ありがとうございます★", ["★"]),
        ("ありがとうございます😊", ["😊"]),
        ("ありがとうございます👍🏻", ["👍🏻"]),
        ("ありがとうございます(^^)", ["(^^)"]),
        ("ありがとうございます(´・ω・`)", ["(´・ω・`)"]),
        ("よろしくお願いします m(_ _)m", ["m(_ _)m"]),
        ("ありがとうございます♡♡", ["♡", "♡"]),
    ],
)
def test_it_blocks_symbols_outside_the_allowed_set(draft: str, found: list[str]) -> None:
    assert flagged(draft + SIGNED, "symbol") == found


def test_it_does_not_count_business_marks_as_decoration() -> None:
    draft = "〒100-0001 ㈱ヒダマリ(株)、10℃以下で保存してください。①電源を切る→②再起動(笑)"
    assert flagged(draft + SIGNED, "symbol") == []


def test_it_names_the_symbol_and_the_allowed_set() -> None:
    draft = "ありがとうございます★" + SIGNED
    [violation] = only(check(draft), "symbol")
    assert violation.message == 'symbol: symbol "★" at 10–11 is not in the allowed set (! ☆ ♪ ！)'


def test_it_takes_the_allowed_set_from_the_policy() -> None:
    policy = Policy.from_dict({"allowed_symbols": ["★"]})
    assert flagged("ありがとうございます★☆" + SIGNED, "symbol", policy=policy) == ["☆"]


# --- dm -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "found"),
    [
        ("詳細はDMにてお伺いします", "DM"),
        ("Please DM us the details", "DM"),
        ("ダイレクトメッセージをお送りください", "ダイレクトメッセージをお送り"),
        ("お名前とご住所をお知らせください", "お名前とご住所をお知らせ"),
        ("Could you send us your phone number?", "send us your phone number"),
    ],
)
def test_it_blocks_moving_to_dms_or_asking_for_personal_data_in_public(draft: str, found: str) -> None:
    assert flagged(draft + SIGNED, "dm") == [found]


def test_it_allows_a_handoff_to_the_support_form() -> None:
    draft = "お手数ですが、お問い合わせフォームにご注文番号をご入力ください。" + SIGNED
    assert flagged(draft, "dm") == []


# --- pii ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "found"),
    [
        ("090-1234-5678のお客様", "090-1234-5678"),
        ("０９０－１２３４－５６７８のお客様", "０９０－１２３４－５６７８"),
        ("hanako@example.com宛にお送りしました", "hanako@example.com"),
        ("〒150-0041へお届けします", "〒150-0041"),
        ("東京都渋谷区神南1-2-3のご住所", "東京都渋谷区神南1-2-3"),
        ("ご注文番号：A1234567を確認しました", "A1234567"),
    ],
)
def test_it_blocks_echoing_personal_data(draft: str, found: str) -> None:
    assert flagged(draft + SIGNED, "pii") == [found]


def test_it_lets_the_company_contacts_through() -> None:
    draft = "0120-123-456 または 03-1234-5678 までお電話ください。" + SIGNED
    policy = Policy.from_dict({"public_contacts": ["03-1234-5678"]})
    assert flagged(draft, "pii", policy=policy) == []
    assert flagged(draft, "pii") == ["03-1234-5678"]


def test_it_does_not_read_urls_or_handles_as_personal_data() -> None:
    draft = "@hanako@example.social こちらをご覧ください https://example.com/faq/12345678" + SIGNED
    assert flagged(draft, "pii", platform="mastodon") == []


# --- copy ---------------------------------------------------------------------------------------

EARLIER = (
    "@taro こんにちは、ポッキー担当の佐藤です。ご不便をおかけして申し訳ございません。"
    "お手数ですが、お問い合わせフォームよりご連絡いただけますでしょうか。"
)


def test_it_warns_about_a_copy_of_an_earlier_reply() -> None:
    draft = EARLIER.replace("@taro", "@hanako").replace("佐藤", "鈴木")
    [violation] = only(check(draft, history=["全く別の返信です。", EARLIER]), "copy")
    assert violation.severity == "warn"
    assert violation.span == (0, len(draft))
    assert violation.message.startswith('copy: 100% similar to an earlier reply "@taro こんにちは')


def test_it_does_not_warn_about_replies_that_share_only_a_set_phrase() -> None:
    draft = "@hanako ご不便をおかけして申し訳ございません。味が薄く感じられたとのこと、商品企画に伝えます。(鈴木)"
    assert only(check(draft, history=[EARLIER]), "copy") == []


def test_it_does_not_compare_short_courtesies() -> None:
    assert only(check("ありがとうございます！(鈴木)", history=["ありがとうございます！(佐藤)"]), "copy") == []


def test_it_takes_the_copy_threshold_and_severity_from_the_policy() -> None:
    draft = "@hanako ポッキー担当の鈴木です。ご不便をおかけして申し訳ございません。お手数ですが、フォームよりご連絡いただけますか。"
    assert only(check(draft, history=[EARLIER]), "copy") == []
    policy = Policy.from_dict({"copy_threshold": 0.5, "rules": {"copy": "block"}})
    [violation] = only(check(draft, history=[EARLIER], policy=policy), "copy")
    assert violation.severity == "block"


# --- the result ---------------------------------------------------------------------------------


def test_it_orders_violations_by_position_and_serializes_them() -> None:
    draft = "今なら★セール"
    result = check(draft, operator="鈴木")
    assert rules_of(result) == ["sales", "symbol", "sales", "signature"]
    assert result.blocked is True
    assert result.to_dict()["violations"][0] == {
        "rule": "sales",
        "severity": "block",
        "message": 'sales: promotional phrase "今なら" at 0–3',
        "span": [0, 3],
    }


@given(st.text(max_size=120), st.sampled_from(["x", "bluesky", "mastodon"]))
def test_it_reports_spans_inside_the_draft(draft: str, platform: str) -> None:
    result = lint(draft, platform=platform, policy=Policy(), operator="鈴木", history=[draft])
    for violation in result.violations:
        start, end = violation.span
        assert 0 <= start <= end <= len(draft)
        assert violation.message.startswith(f"{violation.rule}: ")
