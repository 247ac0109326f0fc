"""Prolific's researcher routes on the emulator; each handler runs under the emulator lock."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from pavilion.emulators.prolific import hooks, payments
from pavilion.emulators.prolific import serialize as ser
from pavilion.emulators.prolific.emulator import ProlificEmulator
from pavilion.emulators.prolific.errors import ApiError

Handler = Callable[..., Any]


def body() -> dict[str, Any]:
    """The JSON object of the request, or a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "A JSON object body is required.")
    return data


def page_of(items: list[dict[str, Any]]) -> Response:
    """`page`/`page_size` pagination with `_links.next`; a page past the end is a 404, as on Prolific."""
    try:
        page, size = int(request.args.get("page", "1")), int(request.args.get("page_size", "20"))
    except ValueError as exc:
        raise ApiError(400, "page and page_size must be integers.") from exc
    if page < 1 or size < 1:
        raise ApiError(400, "page and page_size must be positive.")
    start = (page - 1) * size
    if page > 1 and start >= len(items):
        raise ApiError(404, "Invalid page.")

    def link(number: int) -> dict[str, str]:
        query = {**request.args.to_dict(), "page": str(number), "page_size": str(size)}
        return {"href": f"{request.base_url}?{urlencode(query)}"}

    more = start + size < len(items)
    links = {"self": link(page), "next": link(page + 1) if more else None}
    return jsonify({"results": items[start : start + size], "_links": links, "meta": {"count": len(items)}})


def add_routes(bp: Blueprint, emu: ProlificEmulator) -> None:
    """Register every API route of the emulator on `bp`."""

    def route(rule: str, methods: tuple[str, ...] = ("GET",)) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            @functools.wraps(fn)
            def locked(*args: Any, **kwargs: Any) -> Any:
                with emu.lock:
                    return fn(*args, **kwargs)

            bp.add_url_rule(rule, fn.__name__, locked, methods=list(methods))
            return fn

        return decorate

    _study_routes(route, emu)
    _submission_routes(route, emu)
    _money_routes(route, emu)
    _hook_routes(route, emu)
    _other_routes(route, emu)


Route = Callable[..., Callable[[Handler], Handler]]


def _study_routes(route: Route, emu: ProlificEmulator) -> None:
    st = emu.state

    def view(study_id: str) -> dict[str, Any]:
        study = st.study(study_id)
        return ser.study_json(study, st.places_taken(study))

    @route("/studies/", ("POST",))
    def create_study() -> tuple[Response, int]:
        return jsonify(view(st.create_study(body()).id)), 201

    @route("/studies/")
    def list_studies() -> Response:
        return jsonify({"results": [view(s) for s in st.studies]})

    @route("/studies/<study_id>/")
    def get_study(study_id: str) -> Response:
        return jsonify(view(study_id))

    @route("/studies/<study_id>/", ("PATCH",))
    def patch_study(study_id: str) -> Response:
        st.patch_study(study_id, body())
        return jsonify(view(study_id))

    @route("/studies/<study_id>/", ("DELETE",))
    def delete_study(study_id: str) -> tuple[str, int]:
        st.delete_study(study_id)
        return "", 204

    @route("/studies/<study_id>/transition/", ("POST",))
    def transition_study(study_id: str) -> Response:
        st.transition_study(study_id, str(body().get("action")))
        return jsonify(view(study_id))

    @route("/studies/<study_id>/submissions/counts/")
    def counts(study_id: str) -> Response:
        return jsonify(st.counts(study_id))

    @route("/studies/<study_id>/submissions/")
    def study_submissions(study_id: str) -> Response:
        study = st.study(study_id)
        try:
            limit, offset = int(request.args.get("limit", "20")), int(request.args.get("offset", "0"))
        except ValueError as exc:
            raise ApiError(400, "limit and offset must be integers.") from exc
        subs = st.list_submissions(study_id, None)
        items = [ser.study_submission_item(s, study.reward) for s in subs[offset : offset + limit]]
        return jsonify({"results": items, "meta": {"total": len(subs)}})


def _submission_routes(route: Route, emu: ProlificEmulator) -> None:
    st = emu.state

    @route("/submissions/")
    def list_submissions() -> Response:
        subs = st.list_submissions(request.args.get("study"), request.args.get("status"))
        if request.args.get("ordering", "").lstrip("-") == "started_at":
            subs.sort(key=lambda s: s.started_at or s.reserved_at, reverse=request.args["ordering"].startswith("-"))
        return page_of([ser.submission_list_item(s) for s in subs])

    @route("/submissions/<submission_id>/")
    def get_submission(submission_id: str) -> Response:
        return jsonify(ser.submission_json(st.submission(submission_id)))

    @route("/submissions/<submission_id>/transition/", ("POST",))
    def transition_submission(submission_id: str) -> Response:
        return jsonify(ser.submission_json(st.transition_submission(submission_id, body())))

    @route("/submissions/<submission_id>/request-return/", ("POST",))
    def request_return(submission_id: str) -> Response:
        sub = st.submission(submission_id)
        if not body().get("request_return_reasons"):
            raise ApiError(400, {"request_return_reasons": ["At least one reason is required."]})
        sub.return_requested = True
        return jsonify(ser.submission_json(sub))


def _money_routes(route: Route, emu: ProlificEmulator) -> None:
    st = emu.state

    @route("/submissions/bulk-approve/", ("POST",))
    def bulk_approve() -> tuple[Response, int]:
        payments.bulk_approve(st, body())
        return jsonify({}), 202

    @route("/submissions/bonus-payments/", ("POST",))
    def setup_bonus() -> tuple[Response, int]:
        batch = payments.setup_bonus(st, body(), emu.fee_rate, emu.vat_rate)
        return jsonify(ser.bonus_json(batch)), 201

    @route("/bulk-bonus-payments/<bonus_id>/pay/", ("POST",))
    def pay_bonus(bonus_id: str) -> tuple[Response, int]:
        payments.pay_bonus(st, bonus_id)
        return jsonify({}), 202


def _hook_routes(route: Route, emu: ProlificEmulator) -> None:
    st = emu.state

    @route("/hooks/event-types/")
    def event_types() -> Response:
        return jsonify({"results": list(hooks.EVENT_TYPES)})

    @route("/hooks/secrets/", ("POST",))
    def create_secret() -> tuple[Response, int]:
        return jsonify(hooks.create_secret(st, body())), 201

    @route("/hooks/secrets/")
    def list_secrets() -> Response:
        workspace_id = request.args.get("workspace_id", st.workspace_id)
        value = st.secrets.get(workspace_id)
        found = [] if value is None else [{"id": workspace_id, "value": value, "workspace_id": workspace_id}]
        return jsonify({"results": found})

    @route("/hooks/subscriptions/", ("POST",))
    def create_subscription() -> tuple[Response, int, dict[str, str]]:
        sub = hooks.create_subscription(st, body(), emu.allow_http_hooks)
        return jsonify(hooks.subscription_json(sub)), 201, {"X-Hook-Secret": sub.hook_secret}

    @route("/hooks/subscriptions/")
    def list_subscriptions() -> Response:
        subs = [hooks.subscription_json(s) for s in st.subscriptions.values()]
        enabled = request.args.get("is_enabled")
        if enabled is not None:
            subs = [s for s in subs if s["is_enabled"] == (enabled.lower() == "true")]
        return jsonify({"results": subs})

    @route("/hooks/subscriptions/<subscription_id>/", ("POST",))
    def confirm_subscription(subscription_id: str) -> Response:
        return jsonify(hooks.subscription_json(hooks.confirm_subscription(st, subscription_id, body())))

    @route("/hooks/subscriptions/<subscription_id>/")
    def get_subscription(subscription_id: str) -> Response:
        return jsonify(hooks.subscription_json(hooks.subscription(st, subscription_id)))

    @route("/hooks/subscriptions/<subscription_id>/", ("PATCH",))
    def patch_subscription(subscription_id: str) -> Response:
        return jsonify(hooks.subscription_json(hooks.update_subscription(st, subscription_id, body())))

    @route("/hooks/subscriptions/<subscription_id>/", ("DELETE",))
    def delete_subscription(subscription_id: str) -> tuple[str, int]:
        hooks.subscription(st, subscription_id)
        del st.subscriptions[subscription_id]
        return "", 204

    @route("/hooks/subscriptions/<subscription_id>/events/")
    def subscription_events(subscription_id: str) -> Response:
        return jsonify({"results": list(hooks.subscription(st, subscription_id).deliveries)})


def _other_routes(route: Route, emu: ProlificEmulator) -> None:
    st = emu.state

    @route("/users/me/")
    def me() -> Response:
        return jsonify({"id": "emulator-researcher", "current_workspace_id": st.workspace_id})

    @route("/workspaces/")
    def workspaces() -> Response:
        return jsonify({"results": [{"id": st.workspace_id, "title": "Emulated workspace"}]})

    @route("/messages/", ("POST",))
    def send_message() -> tuple[Response, int]:
        data = body()
        if not data.get("recipient_id") or not data.get("body"):
            raise ApiError(400, {"recipient_id": ["recipient_id and body are required."]})
        st.messages.append({**data, "at": st.now()})
        return jsonify({}), 201

    @route("/messages/bulk/", ("POST",))
    def send_bulk() -> tuple[Response, int]:
        data = body()
        if not data.get("ids") or not data.get("body"):
            raise ApiError(400, {"ids": ["ids and body are required."]})
        st.messages.extend({"recipient_id": i, **data, "at": st.now()} for i in data["ids"])
        return jsonify({}), 201

    @route("/messages/")
    def list_messages() -> Response:
        return jsonify({"results": list(st.messages)})
