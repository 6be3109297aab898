from __future__ import annotations

from kizuna.inbox.models import AuditEvent, Case, CaseStatus
from kizuna.pipeline.ingest import ingest, quarantine
from kizuna.pipeline.models import QuarantinedPayload
from kizuna.replies.actions import do_write_reply
from kizuna.replies.models import ReplyStatus
from kizuna.sources.models import Post
from tests.conftest import Cast, make_post


def test_it_opens_a_case_for_a_matching_post(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッとの抹茶味、袋開けたら全部割れてた…"), source=cast.source)
    assert result.outcome == "new" and result.case_id
    case = Case.objects.get(pk=result.case_id)
    assert case.brand is not None and case.brand.key == "sakutto"
    assert case.status == CaseStatus.NEW
    assert case.intent == "defect" and case.response == "apology"
    assert case.triage_model.startswith("tfidf-lr") and case.reasons
    assert AuditEvent.objects.filter(case=case, verb="case.opened").exists()


def test_it_is_idempotent_on_platform_and_post_id(cast: Cast) -> None:
    post = make_post("ひだまりアプリ便利すぎる", post_id="same")
    assert ingest(cast.ws, post).outcome == "new"
    assert ingest(cast.ws, post).outcome == "duplicate"
    assert Post.objects.filter(platform_post_id="same").count() == 1
    assert Case.objects.count() == 1


def test_it_keeps_unmatched_posts_without_a_case(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("今日は晴れて気持ちいい"))
    assert result.outcome == "new" and result.case_id is None
    assert Post.objects.get(pk=result.post_id).case is None


def test_it_never_opens_a_case_for_our_own_posts(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッと新味のお知らせです", author="hidamari_official"))
    assert result.case_id is None
    assert Post.objects.get(pk=result.post_id).is_ours


def test_it_excludes_reposts(cast: Cast) -> None:
    assert ingest(cast.ws, make_post("サクッと最高", is_repost=True)).case_id is None


def test_it_puts_a_second_post_of_the_thread_in_the_same_case(cast: Cast) -> None:
    first = ingest(cast.ws, make_post("ひだまりアプリにログインできない", post_id="a1"))
    second = ingest(cast.ws, make_post("追記：再インストールしてもダメでした", post_id="a2", in_reply_to="a1"))
    assert second.case_id == first.case_id


def test_it_reopens_the_case_when_the_customer_answers_our_reply(cast: Cast) -> None:
    first = ingest(cast.ws, make_post("ひだまりアプリにログインできない", post_id="b1"), source=cast.source)
    case = Case.objects.get(pk=first.case_id)
    reply = do_write_reply(cast.member(cast.alice), case, text="ご不便をおかけしております。担当の鈴木です。")
    assert reply.status == ReplyStatus.DRY_RUN
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING and case.assignee == cast.alice
    ours = ingest(cast.ws, make_post(reply.text, author="hidamari_support", post_id="r1", in_reply_to="b1"))
    assert ours.case_id == case.pk and ours.outcome == "new"
    answer = ingest(cast.ws, make_post("ありがとうございます、直りました", post_id="b2", in_reply_to="r1"))
    assert answer.case_id == case.pk
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.assignee == cast.alice
    assert Case.objects.count() == 1


def test_it_routes_to_a_department(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッとに異物が入ってた。消費者センターに相談します"))
    case = Case.objects.get(pk=result.case_id)
    assert case.risk == "high"
    assert case.department is not None and case.department.name == "お客様相談室"


def test_it_counts_a_repeated_broken_payload_once(cast: Cast) -> None:
    quarantine(cast.ws, origin="x line 1", reason="bad", payload="{oops")
    quarantine(cast.ws, origin="x line 1", reason="bad", payload="{oops")
    item = QuarantinedPayload.objects.get()
    assert item.seen_count == 2 and item.reason == "bad"


def test_it_records_why_a_repost_opened_no_case(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッと最高", is_repost=True))
    post = Post.objects.get(pk=result.post_id)
    assert post.exclusion == "repost" and "include_reposts" in post.exclusion_detail


def test_it_excludes_authors_on_the_block_list(cast: Cast) -> None:
    result = ingest(cast.ws, make_post("サクッとプレゼント中", author="SAKUTTO_BOT_2025"))
    assert result.case_id is None and result.reason == "blocked_author"


def test_it_flags_the_same_text_from_many_authors_as_a_campaign(cast: Cast) -> None:
    text = "【拡散】サクッと1年分が当たる！フォロー&RTで応募 https://example.com/c?u={n}"
    results = [ingest(cast.ws, make_post(text.format(n=n), author=f"user{n}")) for n in range(6)]
    assert all(r.case_id for r in results[:4])
    assert results[4].case_id is None and results[4].reason == "campaign_burst"
    # The campaign's earlier cases, untouched by anyone, are closed as spam with the reason.
    assert set(Case.objects.values_list("status", "close_reason")) == {("closed", "spam")}
    assert Post.objects.filter(exclusion="campaign_burst").count() == 6
    assert AuditEvent.objects.filter(verb="case.closed", data__automatic=True).count() == 4


def test_it_leaves_a_taken_case_open_when_a_campaign_is_detected(cast: Cast) -> None:
    from kizuna.inbox.actions import do_take_case

    text = "サクッと新味キャンペーン実施中！"
    first = ingest(cast.ws, make_post(text, author="a0"))
    do_take_case(cast.member(cast.alice), Case.objects.get(pk=first.case_id))
    for n in range(1, 6):
        ingest(cast.ws, make_post(text, author=f"a{n}"))
    assert Case.objects.get(pk=first.case_id).status == CaseStatus.OPEN


def test_it_keeps_one_persons_posts_about_two_brands_apart(cast: Cast) -> None:
    snack = ingest(cast.ws, make_post("サクッとの抹茶味が好き", author="same"))
    shop = ingest(cast.ws, make_post("ひだまりアプリのクーポンが使えない", author="same"))
    again = ingest(cast.ws, make_post("サクッとのいちご味も買った", author="same"))
    assert snack.case_id != shop.case_id and again.case_id == snack.case_id
