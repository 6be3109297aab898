from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from kizuna.core.triage.features import BrandContext, TriagePost
from kizuna.core.triage.model import load_default
from kizuna.triage.reasons import describe_reason
from tests.conftest import Cast
from tests.replies.conftest import open_case

SNACK = BrandContext(
    "sakutto",
    "サクッと",
    ("サクッと",),
    "チョコレート菓子。「サクッと終わらせる」など、手早くという意味の日常語は当ブランドではない。",
)
POSTS = [
    TriagePost("サクッとに金属片が入ってた。保健所に連絡します", brand=SNACK),
    TriagePost("サクッと終わらせて帰ろう", brand=SNACK),
    TriagePost("サクッとの新しい味、また買う", brand=SNACK),
    TriagePost("サクッと", brand=SNACK),
    TriagePost("サクッとの箱が潰れて届いた。配送ひどい", brand=SNACK, author_followers=50_000),
]


def test_it_translates_every_shape_of_reason_the_model_writes() -> None:
    reasons = [r for d in load_default().predict_many(POSTS, fast_only=True) for r in d.reasons]
    assert any(r.startswith("risk high:") for r in reasons)
    assert any("large reach" in r for r in reasons)
    with translation.override("ja"):
        for reason in reasons:
            shown = describe_reason(reason)
            # Only the quoted words of the post may stay Latin: the rest is Japanese.
            outside_quotes = "".join(part.split("」")[-1] for part in shown.split("「"))
            assert not any(c.isascii() and c.isalpha() for c in outside_quotes), (reason, shown)


@pytest.mark.parametrize(
    ("reason", "ja"),
    [
        ("「壊れ」「変な音」 → defect", "「壊れ」「変な音」 → 不具合"),
        (
            "risk high: 「異物」 (health and safety); 「保健所」 (legal or regulator)",
            "リスク高: 「異物」(健康・安全)、「保健所」(法的措置・行政)",
        ),
        ("risk high: large reach, the author has 50,000 followers", "リスク高: 影響力が大きい(フォロワー 50,000 人)"),
        ("a line of some other shape", "a line of some other shape"),
        ("risk high: 「x」 (a kind we never wrote)", "risk high: 「x」 (a kind we never wrote)"),
    ],
)
def test_it_reads_each_reason_in_japanese(reason: str, ja: str) -> None:
    with translation.override("ja"):
        assert describe_reason(reason) == ja
    with translation.override("en"):
        assert describe_reason(reason).lower().startswith(reason[:3].lower())


def test_it_shows_the_reasons_translated_and_escaped_on_the_case_page(cast: Cast) -> None:
    case = open_case(cast, "サクッとのチョコに金属片<b>が入ってた")
    case.reasons = ["「金属片<b>」 (health and safety)", "risk high: 「金属片<b>」 (health and safety)"]
    case.save()
    page = cast.client(cast.alice).get(reverse("inbox:case", args=["hidamari", case.pk])).content.decode()
    assert "リスク高: 「金属片&lt;b&gt;」(健康・安全)" in page
    assert "<b>" not in page.split("リスク高")[1][:40]
