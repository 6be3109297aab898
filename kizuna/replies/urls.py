from django.urls import path

from kizuna.replies import views

app_name = "replies"
urlpatterns = [
    path("cases/<int:case_id>/reply/", views.write_reply, name="reply"),
    path("cases/<int:case_id>/lint/", views.lint_preview, name="lint"),
    path("cases/<int:case_id>/links/", views.create_link, name="link"),
    path("cases/<int:case_id>/handoff/", views.hand_off, name="handoff"),
    path("approvals/", views.approvals, name="approvals"),
    path("replies/<int:reply_id>/approve/", views.approve, name="approve"),
    path("replies/<int:reply_id>/reject/", views.reject, name="reject"),
    path("replies/<int:reply_id>/retry/", views.retry, name="retry"),
    path("handoffs/", views.handoff_lookup, name="handoffs"),
    path("handoffs/<str:code>/outcome/", views.record_outcome, name="outcome"),
]
