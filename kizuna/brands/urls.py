from django.urls import path

from kizuna.brands import views

app_name = "brands"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("preview/", views.rule_preview, name="preview"),
    path("exclusions/", views.exclusions, name="exclusions"),
    path("exclusions/<int:post_id>/restore/", views.restore_post, name="restore"),
    path("authors/<int:author_id>/block/", views.block_author, name="block_author"),
    path("backfills/<int:job_id>/", views.backfill_progress, name="backfill_progress"),
    path("<slug:key>/", views.rule_edit, name="rule"),
    path("<slug:key>/backfill/", views.backfill_start, name="backfill"),
]
