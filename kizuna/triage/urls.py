from django.urls import path

from kizuna.triage import views

app_name = "triage"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("crisis-mode/", views.crisis_mode, name="crisis_mode"),
    path("alerts/<int:alert_id>/", views.alert_status, name="alert"),
    path("cases/<int:case_id>/labels/", views.correct_labels, name="labels"),
]
