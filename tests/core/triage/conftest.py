from __future__ import annotations

import pytest

from kizuna.core.triage.model import BrandContext, TriageModel, load_default


@pytest.fixture(scope="session")
def model() -> TriageModel:
    return load_default()


@pytest.fixture
def snack() -> BrandContext:
    """A snack brand whose name is also an everyday word (サクッと: quickly)."""
    return BrandContext(
        id="sakutto",
        name="サクッと",
        aliases=("サクッと", "さくっと", "@sakutto_jp"),
        description=(
            "サクッと軽い食感のスナック菓子。抹茶味・チーズ味・期間限定の味をコンビニとスーパーで販売。"
            "「サクッと終わらせる」「サクッと行く」など、手早くという意味の日常語は当ブランドではない。"
        ),
    )
