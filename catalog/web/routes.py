"""The page routes. GraphQL keeps /graphql; pages live at /, /datasets, /decisions, /agencies, /agreements,
/share-requests, /people, /signin and /static, so the two never collide."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from catalog.config import Settings
from catalog.web import (
    views_agreements,
    views_catalog,
    views_datasets,
    views_decisions,
    views_lineage,
    views_people,
    views_sharing,
)
from catalog.web.render import web_route
from catalog.web.views_signin import CALLBACK_PATH, SignIn

STATIC = Path(__file__).resolve().parent / "static"


def web_routes(settings: Settings) -> list[BaseRoute]:
    """Every page route. Dataset ids may contain `/`, so the dataset views are matched longest suffix first."""
    signin = SignIn(settings)
    return [
        web_route("/", views_catalog.home),
        web_route("/datasets", views_catalog.datasets),
        web_route("/datasets/new", views_datasets.new_dataset_form),
        web_route("/datasets/new", views_datasets.register_dataset, methods=("POST",)),
        web_route("/datasets/{id:path}/lineage.svg", views_lineage.lineage_svg),
        web_route("/datasets/{id:path}/lineage", views_lineage.lineage),
        web_route("/datasets/{id:path}/impact", views_lineage.impact),
        web_route("/datasets/{id:path}/access-check", views_decisions.check_access, methods=("POST",)),
        web_route("/datasets/{id:path}/edit", views_datasets.edit_dataset_form),
        web_route("/datasets/{id:path}/edit", views_datasets.update_dataset, methods=("POST",)),
        web_route("/datasets/{id:path}/corrections", views_datasets.issue_correction, methods=("POST",)),
        web_route("/datasets/{id:path}/attest", views_lineage.attest_process, methods=("POST",)),
        web_route("/datasets/{id:path}", views_catalog.dataset),
        web_route("/decisions", views_decisions.decisions),
        web_route("/decisions/{id:path}", views_decisions.decision),
        web_route("/policy", views_decisions.policy_version),
        web_route("/policy/{version}", views_decisions.policy_version, name="policy_at"),
        web_route("/share-requests", views_sharing.queue),
        web_route("/share-requests/new", views_sharing.new_request_form),
        web_route("/share-requests/new", views_sharing.new_request, methods=("POST",)),
        web_route("/share-requests/{id:path}/approve", views_sharing.approve, methods=("POST",)),
        web_route("/share-requests/{id:path}/reject", views_sharing.reject, methods=("POST",)),
        web_route("/share-requests/{id:path}", views_sharing.share_request),
        web_route("/agencies/{id:path}", views_agreements.agency),
        web_route("/agreements/{id:path}/{verb}", views_agreements.change, methods=("POST",)),
        web_route("/agreements/{id:path}", views_agreements.agreement),
        web_route("/people/{id:path}/training", views_people.record_training, methods=("POST",)),
        web_route("/people/{id:path}/roles", views_people.set_roles, methods=("POST",)),
        web_route("/people/{id:path}/deactivate", views_people.deactivate, methods=("POST",)),
        web_route("/people/{id:path}/reactivate", views_people.reactivate, methods=("POST",)),
        web_route("/people/{id:path}", views_people.person),
        web_route("/signin", signin.form, name="signin"),
        web_route("/signin", signin.with_token, methods=("POST",), name="signin_with_token"),
        web_route("/signin/oidc", signin.start_oidc, name="signin_oidc"),
        web_route(CALLBACK_PATH, signin.callback, name="signin_callback"),
        web_route("/signout", signin.out, methods=("POST",), name="signout"),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
