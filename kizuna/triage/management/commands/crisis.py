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
    "{brand}に虫が入ってた。異物混入って最悪",
    "{brand}食べたら気分悪くなった…食中毒じゃないよね",
    "{brand}の異物混入、拡散希望。子どもが食べるところだった",
    "{brand}返金してほしい。消費者センターに相談する",
    "うちの子{brand}食べて腹痛。保健所に連絡した",
    "{brand}の袋の中に金属片。怖すぎる",
    "{brand}に髪の毛が入ってた。もう二度と買わない",
    "{brand}の件、対応ひどすぎ。電話しても折り返しなし",
)


class Command(BaseCommand):
    help = "Run the crisis watch now, or simulate a spike of negative posts for a drill."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="check every brand now")
        check.add_argument("--workspace")
        sim = sub.add_parser("simulate", help="inject a spike of negative posts, then check")
        sim.add_argument("--brand", required=True)
        sim.add_argument("--posts", type=int, default=100, help="how many angry posts (default 100)")
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
                text = DRILL_TEXTS[n % len(DRILL_TEXTS)].format(brand=brand.name) + f" ({n + 1})"
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
