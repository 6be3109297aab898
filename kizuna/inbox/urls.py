from django.urls import path

from kizuna.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("stream/", views.inbox_stream, name="stream"),
    path("quarantine/", views.quarantine_list, name="quarantine"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/row/", views.case_row, name="case_row"),
    path("cases/<int:case_id>/take/", views.take_case, name="take"),
    path("cases/<int:case_id>/context/", views.fetch_context, name="context"),
    path("cases/<int:case_id>/close/", views.close_case, name="close"),
]
