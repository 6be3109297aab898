from django.urls import path

from kizuna.sources import views

app_name = "sources"
urlpatterns = [
    path("", views.source_list, name="list"),
    path("<int:source_id>/", views.source_detail, name="detail"),
    path("<int:source_id>/test/", views.test_connection, name="test"),
    path("<int:source_id>/rotate-secret/", views.rotate_secret, name="rotate"),
]
