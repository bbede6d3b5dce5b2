"""Route files: parsing, errors that name the line and field, and the Router's checks (no server)."""

from __future__ import annotations

import collections
import dataclasses

import pytest

from pipelinekit.serving.metrics import RouteMetrics
from pipelinekit.serving.route_table import candidates
from pipelinekit.serving.router import Router, route_key
from pipelinekit.serving.routes import RouteConfigError, parse_routes

GOOD = """
routes:
  - name: penguins
    split:
      - {model: stable, version: 1, weight: 90}
      - {model: canary, weight: 10}
    shadows: [{model: candidate, label: next}]
    fallback: {deadline_ms: 50, targets: [{model: simple}]}
    protection: {window_s: 10, min_requests: 5, max_p99_ms: 200}
"""


def _router(served=("stable", "canary", "candidate", "simple")) -> Router:
    from prometheus_client import CollectorRegistry

    return Router(lambda name: name in served, RouteMetrics(CollectorRegistry()))


def test_a_good_file_parses_to_routes():
    [route] = parse_routes(GOOD, "routes.yaml").values()
    assert [t.key for t in route.split] == ["stable/1", "canary"]
    assert [t.weight for t in route.split] == [90.0, 10.0]
    assert [t.key for t in route.shadows] == ["candidate@next"]
    assert [t.key for t in route.fallbacks] == ["simple"] and route.deadline_ms == 50.0
    assert route.protection is not None and route.protection.max_p99_ms == 200.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("routes: 3", "line 1: routes must be a list"),
        ("routes:\n  - name: r\n    split: [{model: a, weight: -1}]\n", "line 3: route 'r' split: weight is '-1'"),
        ("routes:\n  - name: r\n    spilt: []\n", "unknown field 'spilt'"),
        ("routes:\n  - split: [{model: a}]\n", "a route needs a name"),
        ("routes:\n  - name: r\n    split: [{model: a, version: x}]\n", "version is 'x'; expected a finite number above 0"),
        ("routes:\n  - name: r\n    split: [{model: a, weight: 0}]\n", "at least one split weight must be above 0"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n    fallback: {targets: []}\n", "needs deadline_ms"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n  - name: r\n    split: [{model: a}]\n", "defined twice"),
        ("routes:\n  - name: r\n    split: [{model: a, version: 1, label: x}]\n", "both version and label"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n    protection: {window_s: 3}\n", "max_error_rate or max_p99_ms"),
        ("routes: [\n", "not valid YAML"),
        ("routes:\n  - name: r\n    split: [{model: a, weight: .inf}, {model: b}]\n", "weight is '.inf'; expected a number from 0"),
        ("routes:\n  - name: r\n    split: [{model: a, weight: .nan}]\n", "weight is '.nan'"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n    fallback: {deadline_ms: .inf, targets: [{model: b}]}\n",
         "deadline_ms is '.inf'; expected a number of milliseconds above 0 and at most 600000"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n    fallback: {deadline_ms: 1e10, targets: [{model: b}]}\n",
         "deadline_ms is '1e10'"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n    protection: {window_s: .nan, max_p99_ms: 9}\n",
         "window_s is '.nan'; expected a finite number above 0"),
        ("routes:\n  - name: r\n    split: [{model: a}]\n    protection: {min_requests: .inf, max_p99_ms: 9}\n",
         "min_requests is '.inf'"),
    ],
)
def test_a_bad_file_names_the_file_line_and_field(text, expected):
    with pytest.raises(RouteConfigError) as error:
        parse_routes(text, "routes.yaml")
    assert "routes.yaml" in str(error.value) and expected in str(error.value)


def test_routes_must_name_served_models_and_not_shadow_one():
    router = _router(served=("stable",))
    with pytest.raises(RouteConfigError, match="target 'canary' names no served model"):
        router.set_routes(parse_routes(GOOD))
    clash = parse_routes("routes:\n  - name: stable\n    split: [{model: stable}]\n")
    with pytest.raises(RouteConfigError, match="has the name of a served model"):
        router.set_routes(clash)
    assert router.routes == {}


def test_a_bad_set_keeps_the_routes_in_force():
    router = _router()
    router.set_routes(parse_routes(GOOD))
    before = router.routes
    with pytest.raises(RouteConfigError):
        router.set_routes(parse_routes("routes:\n  - name: x\n    split: [{model: nowhere}]\n"))
    assert router.routes == before


def test_sticky_keys_pick_the_same_target_and_split_by_weight():
    router = _router()
    router.set_routes(parse_routes(GOOD))
    route = router.routes["penguins"]
    picks = collections.Counter()
    for user in range(2000):
        token = route_key.set(f"user-{user}")
        try:
            first = candidates(route)[0].key
            assert all(candidates(route)[0].key == first for _ in range(3))
        finally:
            route_key.reset(token)
        picks[first] += 1
    # 10% of 2,000 keys: sd = sqrt(2000 * 0.1 * 0.9) = 13.4; allow 4.5 sd
    assert abs(picks["canary"] - 200) < 60, picks


def test_weights_and_rollback_change_the_route():
    router = _router()
    router.set_routes(parse_routes(GOOD))
    route = router.change(
        "penguins", "set-weights", lambda r: r.with_weights({"canary": 100, "stable/1": 0}), "tester", {}
    )
    assert {t.key: t.weight for t in route.split} == {"stable/1": 0.0, "canary": 100.0}
    with pytest.raises(RouteConfigError, match="has no split target"):
        router.change("penguins", "set-weights", lambda r: r.with_weights({"nope": 1}), "tester", {})
    assert router.rollback("penguins", "tester").split[0].weight == 90.0
    with pytest.raises(RouteConfigError, match="no earlier state"):
        router.rollback("penguins", "tester")
    router.close()


def _fake_run(behaviour: dict[str, tuple[float, bool]], calls: list[str]):
    """A target runner: sleeps, then answers the target's name or raises INTERNAL."""
    import time

    from pipelinekit.serving.errors import StatusError

    def run(spec):
        calls.append(spec.name)
        delay, ok = behaviour[spec.name]
        time.sleep(delay)
        if not ok:
            raise StatusError(f"{spec.name} broke")
        return spec.name

    return run


RACE = """
routes:
  - name: r
    split: [{model: stable}]
    fallback: {deadline_ms: 300, targets: [{model: canary}, {model: simple}]}
    protection: {window_s: 30, min_requests: 4, max_error_rate: 0.5}
"""


def test_a_failed_primary_gives_the_next_answer_at_once_not_at_the_deadline():
    import time

    router = _router()
    router.set_routes(parse_routes(RACE))
    run = _fake_run({"stable": (0.0, False), "canary": (0.02, True), "simple": (0.0, True)}, [])
    start = time.perf_counter()
    assert router.call("r", "", run, lambda a, b: a == b) == "canary"  # preferred over the faster simple
    assert time.perf_counter() - start < 0.25
    run = _fake_run({"stable": (0.0, False), "canary": (0.0, False), "simple": (0.0, False)}, [])
    with pytest.raises(Exception, match="stable broke"):  # all failed: the preferred target's error
        router.call("r", "", run, lambda a, b: a == b)
    router.close()


def test_an_erroring_target_is_switched_off_and_the_route_falls_back():
    import time

    router = _router()
    router.set_routes(parse_routes(RACE))
    calls: list[str] = []
    run = _fake_run({"stable": (0.0, False), "canary": (0.0, True), "simple": (0.0, True)}, calls)
    for _ in range(6):
        assert router.call("r", "", run, lambda a, b: a == b) == "canary"
        time.sleep(0.11)  # the window is judged at most every 100 ms
    assert "stable" in router.routes["r"].disabled
    calls.clear()
    assert router.call("r", "", run, lambda a, b: a == b) == "canary"
    assert "stable" not in calls  # out of the route: not even tried
    everything = frozenset({"stable", "canary", "simple"})
    router.change("r", "disable", lambda r: dataclasses.replace(r, disabled=everything), "tester", {})
    from pipelinekit.serving.router import RouteUnavailableError

    with pytest.raises(RouteUnavailableError, match="every target is switched off"):
        router.call("r", "", run, lambda a, b: a == b)
    router.close()


def test_rollback_undoes_a_route_file_change_too():
    router = _router()
    router.set_routes(parse_routes(GOOD))
    router.set_routes(parse_routes(GOOD.replace("weight: 90", "weight: 50")))
    assert router.routes["penguins"].split[0].weight == 50.0
    assert router.rollback("penguins", "tester").split[0].weight == 90.0
    router.close()


def test_a_fallback_that_is_also_the_pick_is_called_once():
    router = _router()
    text = "routes:\n  - name: r\n    split: [{model: stable, weight: 5}]\n"
    router.set_routes(parse_routes(text + "    fallback: {deadline_ms: 100, targets: [{model: stable}, {model: canary}]}\n"))
    calls: list[str] = []
    run = _fake_run({"stable": (0.0, True), "canary": (0.0, True)}, calls)
    assert router.call("r", "", run, lambda a, b: a == b) == "stable"
    router.close()
    assert calls.count("stable") == 1  # canary may be cancelled once stable answered


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), True, "3", -1, 1e300])
def test_the_admin_api_refuses_weights_that_are_not_finite_numbers(weight):
    from pipelinekit.serving.admin import AdminServer

    router = _router()
    router.set_routes(parse_routes(GOOD))
    before = router.routes["penguins"]
    admin = AdminServer(router, "token").start()
    try:
        with pytest.raises(RouteConfigError, match=r"route 'penguins': target 'canary': weight is .*; expected a number"):
            admin.handle("POST", "/routes/penguins/weights", {"weights": {"canary": weight}})
    finally:
        admin.stop()
        router.close()
    assert router.routes["penguins"] == before


def _flaky(every: int):
    """A target runner that fails every ``every``-th call (UNAVAILABLE), else answers the target's name."""
    from pipelinekit.serving.errors import StatusError

    count = [0]

    def run(spec):
        count[0] += 1
        if count[0] % every == 0:
            error = StatusError(f"{spec.name} hiccup")
            error.code = "UNAVAILABLE"
            raise error
        return spec.name

    return run


def test_protection_never_switches_off_the_last_target():
    import time

    from prometheus_client import CollectorRegistry

    from pipelinekit.serving.errors import StatusError

    metrics = RouteMetrics(registry := CollectorRegistry())
    router = Router(lambda name: name == "stable", metrics)
    router.set_routes(parse_routes(
        "routes:\n  - name: p\n    split: [{model: stable}]\n"
        "    protection: {window_s: 30, min_requests: 4, max_error_rate: 0.2}\n"
    ))  # fmt: skip
    run, failed = _flaky(3), 0
    for _ in range(30):
        try:
            router.call("p", "", run, lambda a, b: a == b)
        except StatusError as exc:
            assert exc.code == "UNAVAILABLE"  # the target's own hiccups, never "every target is switched off"
            failed += 1
        time.sleep(0.01)
    router.close()
    assert failed == 10 and router.routes["p"].disabled == frozenset()
    kept = registry.get_sample_value(
        "pipelinekit_route_protection_trips_total", {"route": "p", "target": "stable", "outcome": "kept_last"}
    )
    assert kept is not None and kept >= 1


def test_a_tripped_target_is_tried_again_after_the_window():
    import time

    router = _router()
    router.set_routes(parse_routes(RACE.replace("window_s: 30", "window_s: 0.5")))
    behaviour = {"stable": (0.0, False), "canary": (0.0, True), "simple": (0.0, True)}
    run = _fake_run(behaviour, calls := [])
    for _ in range(6):
        router.call("r", "", run, lambda a, b: a == b)
        time.sleep(0.11)
    assert "stable" in router.routes["r"].disabled
    time.sleep(0.5)
    behaviour["stable"] = (0.0, True)  # the fault has passed
    calls.clear()
    assert router.call("r", "", run, lambda a, b: a == b) == "stable"
    assert "stable" in calls and router.routes["r"].disabled == frozenset()
    assert router.rollback("r", "tester").disabled == frozenset({"stable"})  # the re-admission is a change too
    router.close()


def test_a_person_s_disable_is_not_undone_by_protection():
    import time

    router = _router()
    router.set_routes(parse_routes(RACE.replace("window_s: 30", "window_s: 0.5")))
    run = _fake_run({"stable": (0.0, False), "canary": (0.0, True), "simple": (0.0, True)}, [])
    for _ in range(6):
        router.call("r", "", run, lambda a, b: a == b)
        time.sleep(0.11)
    assert "stable" in router.routes["r"].disabled
    router.change("r", "disable", lambda r: dataclasses.replace(r, disabled=r.disabled | {"stable"}), "tester", {})
    time.sleep(0.6)
    router.call("r", "", run, lambda a, b: a == b)
    assert "stable" in router.routes["r"].disabled
    router.close()


def test_under_workers_each_records_its_protection_and_worker_0_the_file(tmp_path):
    from pipelinekit.serving.route_records import RouteChangeRecorder

    path = str(tmp_path / "metadata.sqlite")
    for worker in (0, 1):  # what two workers of `serve --num_workers 2` record
        recorder = RouteChangeRecorder(path, worker)
        recorder("r", "load", {}, "route file routes.yaml")
        recorder("r", "protect", {"target": "a"}, "protection")
    changes = RouteChangeRecorder(path).changes("r")
    assert sorted((c.properties["action"], c.properties["who"]) for c in changes) == [
        ("load", "route file routes.yaml"),
        ("protect", "protection (worker 0)"),
        ("protect", "protection (worker 1)"),
    ]


CANARIED = """
routes:
  - name: c
    split: [{model: stable, weight: 50}, {model: canary, weight: 50}]
    protection: {window_s: 30, min_requests: 4, max_error_rate: 0.5}
"""


def _rejecting(rejects):
    """A target runner that answers the target's name, or INVALID_ARGUMENT where ``rejects(model, kind, n)``."""
    from pipelinekit.serving.errors import InvalidInputError

    counts: collections.Counter = collections.Counter()

    def runner(kind: str):
        def run(spec):
            counts[spec.name] += 1
            if rejects(spec.name, kind, counts[spec.name]):
                raise InvalidInputError(f"{spec.name} rejects {kind}")
            return spec.name

        return run

    return runner


def _send(router: Router, runner, kinds: list[str]) -> collections.Counter:
    """Send one request of each kind in ``kinds`` to route c, 10 ms apart; the outcomes by target."""
    import time

    outcomes: collections.Counter = collections.Counter()
    for kind in kinds:
        try:
            outcomes[router.call("c", "", runner(kind), lambda a, b: a == b, lambda kind=kind: kind)] += 1
        except Exception as exc:  # noqa: BLE001 - the rejections are the point
            outcomes[str(exc).split()[0] + " rejected"] += 1
        time.sleep(0.01)
    return outcomes


def test_a_target_rejecting_what_the_others_answer_is_switched_off():
    router = _router()
    router.set_routes(parse_routes(CANARIED))
    runner = _rejecting(lambda model, kind, n: model == "canary")  # a broken canary: rejects every request
    _send(router, runner, ["normal"] * 60)
    assert router.routes["c"].disabled == frozenset({"canary"})
    assert _send(router, runner, ["normal"] * 10) == {"stable": 10}
    router.close()


def test_requests_every_target_rejects_trip_nothing():
    router = _router()
    router.set_routes(parse_routes(CANARIED))
    # a malformed kind rejected by both, and a kind of which both reject a third (say bad values)
    runner = _rejecting(lambda model, kind, n: kind == "malformed" or n % 3 == 0)
    outcomes = _send(router, runner, ["malformed", "normal"] * 40)
    assert router.routes["c"].disabled == frozenset()
    assert outcomes["stable rejected"] > 10 and outcomes["canary rejected"] > 10, outcomes
    router.close()
