"""What an operator needs around an X post: the conversation it belongs to and the author's
own recent posts (前後の投稿). Each call costs reads; the desk fetches them on request."""

from __future__ import annotations

from kizuna.core.posts import IncomingPost, PayloadError
from kizuna.sources.x.connector import _POST_PARAMS, XApi, page_items


def fetch_conversation(api: XApi, conversation_id: str, *, max_results: int = 100) -> list[IncomingPost | PayloadError]:
    """Return the conversation's first post and the replies recent search still holds (last 7 days)."""
    root = api.get(f"/2/tweets/{conversation_id}", _POST_PARAMS)
    items, _ = page_items(root)
    params = {
        **_POST_PARAMS,
        "query": f"conversation_id:{conversation_id}",
        "max_results": str(max(10, min(100, max_results))),
    }
    replies, _ = page_items(api.get("/2/tweets/search/recent", params))
    return [*items, *replies]


def fetch_user_posts(api: XApi, user_id: str, *, max_results: int = 20) -> list[IncomingPost | PayloadError]:
    """Return the author's latest posts and replies (GET /2/users/:id/tweets)."""
    params = {**_POST_PARAMS, "max_results": str(max(5, min(100, max_results)))}
    items, _ = page_items(api.get(f"/2/users/{user_id}/tweets", params))
    return items
