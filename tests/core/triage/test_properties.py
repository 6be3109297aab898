from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.core.triage.lexicon import INTENTS, RESPONSES, RISKS
from kizuna.core.triage.model import BrandContext, TriagePost, load_default

BRANDS = st.one_of(
    st.none(),
    st.builds(
        BrandContext,
        id=st.just("b"),
        name=st.text(min_size=1, max_size=6),
        aliases=st.lists(st.text(max_size=6), max_size=3).map(tuple),
        description=st.text(max_size=80),
    ),
)
POSTS = st.builds(
    TriagePost,
    text=st.text(max_size=200),
    context=st.lists(st.text(max_size=60), max_size=2).map(tuple),
    brand=BRANDS,
    author_followers=st.integers(min_value=0, max_value=10**7),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(POSTS, min_size=1, max_size=4))
def test_it_gives_valid_labels_for_any_text(posts: list[TriagePost]) -> None:
    decisions = load_default().predict_many(posts)
    assert len(decisions) == len(posts)
    for d in decisions:
        assert d.intent.value in INTENTS and d.response.value in RESPONSES and d.risk.value in RISKS
        for label in (d.intent, d.response, d.risk):
            assert 0.0 <= label.confidence <= 1.0
        assert d.reasons and all(isinstance(r, str) and r for r in d.reasons)
