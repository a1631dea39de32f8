from django.urls import path

from leaven.people import views

app_name = "people"

urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/emails/new/", views.email_form, name="email_add"),
    path("people/<int:pk>/emails/<int:email_pk>/", views.email_form, name="email_edit"),
    path("people/<int:pk>/phones/new/", views.phone_form, name="phone_add"),
    path("people/<int:pk>/phones/<int:phone_pk>/", views.phone_form, name="phone_edit"),
    path("people/<int:pk>/stage/", views.person_stage, name="person_stage"),
    path("people/<int:pk>/notes/", views.person_note, name="person_note"),
    path("people/<int:pk>/tags/", views.person_tag, name="person_tag"),
    path("people/<int:pk>/tags/<int:tag_pk>/remove/", views.person_untag, name="person_untag"),
    path("people/<int:pk>/units/", views.person_unit, name="person_unit"),
    path("people/<int:pk>/relationships/", views.person_relationship, name="person_relationship"),
    path(
        "people/<int:pk>/relationships/<int:rel_pk>/remove/",
        views.relationship_delete,
        name="relationship_delete",
    ),
    # After the tag and relationship removals, which this pattern would otherwise swallow.
    path(
        "people/<int:pk>/<str:kind>/<int:contact_pk>/remove/",
        views.contact_remove,
        name="contact_remove",
    ),
    path("people/<int:pk>/household/", views.person_household, name="person_household"),
    path("units/<slug:slug>/fields/", views.unit_custom_fields, name="unit_custom_fields"),
    path("partners/", views.partner_list, name="partner_list"),
    path("people/<int:pk>/affiliations/", views.person_affiliation, name="person_affiliation"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
]
