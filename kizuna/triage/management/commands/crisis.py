"""kizuna crisis check | kizuna crisis simulate --brand ID: the crisis watch by hand."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kizuna.brands.management.commands.config import pick_workspace
from kizuna.brands.models import Brand
from kizuna.core.posts import IncomingPost
from kizuna.pipeline.ingest import ingest
from kizuna.sources.models import Platform, Source
from kizuna.triage.crisis import check_workspace

# A burst of angry posts for a drill: varied, as a real 炎上 is.
DRILL_TEXTS = (
    "{brand}に虫が入ってた。食べる前に気づいてよかったけど最悪",
    "{brand}食べたら気分悪くなった…大丈夫なのこれ",
    "{brand}異物混入ってマジ?拡散希望",
    "{brand}のニュース見た。もう買わない",
    "{brand}の対応ひどすぎ。問い合わせても返事なし",
    "{brand}返金してほしい。消費者センターに相談する",
    "うちの子{brand}食べて腹痛。保健所に連絡した方がいい?",
    "{brand}の件、説明まだ?",
)


class Command(BaseCommand):
    help = "Run the crisis watch now, or simulate a spike of negative posts for a drill."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="check every brand now")
        check.add_argument("--workspace")
        sim = sub.add_parser("simulate", help="inject a spike of negative posts, then check")
        sim.add_argument("--brand", required=True)
        sim.add_argument("--posts", type=int, default=12)
        sim.add_argument("--workspace")

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = pick_workspace(opts["workspace"])
        if opts["action"] == "simulate":
            brand = Brand.objects.filter(workspace=ws, key=opts["brand"]).first()
            if brand is None:
                raise CommandError(f'no brand "{opts["brand"]}" in {ws.slug}')
            source, _ = Source.objects.get_or_create(
                workspace=ws, platform=Platform.IMPORT, name="Crisis drill", defaults={"enabled": False}
            )
            now = timezone.now()
            rng = random.Random()
            for n in range(opts["posts"]):
                text = rng.choice(DRILL_TEXTS).format(brand=brand.name) + f" #{n}"
                post_id = f"drill-{now:%Y%m%d%H%M%S}-{n}"
                incoming = IncomingPost(
                    platform=Platform.IMPORT,
                    platform_post_id=post_id,
                    text=text,
                    author_handle=f"drill_{n}",
                    created_at=now - timedelta(minutes=rng.randint(0, 50)),
                    thread_id=post_id,
                    raw={"drill": True},
                )
                ingest(ws, incoming, source=source)
        alerts = check_workspace(ws)
        for alert in alerts:
            self.stdout.write(
                f"ALERT {alert.brand.name if alert.brand else '-'}: {alert.count} negative posts in the last hour "
                f"(usual {alert.baseline:.1f}, threshold {alert.threshold:.1f})"
            )
        if not alerts:
            self.stdout.write("no new alert")
