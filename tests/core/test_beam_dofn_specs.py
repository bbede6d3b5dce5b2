"""The remembered DoFn introspection answers exactly as Beam's own, and pipelines still run."""

from __future__ import annotations

import pytest

beam = pytest.importorskip("apache_beam")

from apache_beam.coders import VarIntCoder  # noqa: E402
from apache_beam.transforms import userstate  # noqa: E402
from apache_beam.transforms.core import CallableWrapperDoFn  # noqa: E402
from apache_beam.transforms.timeutil import TimeDomain  # noqa: E402

from pipelinekit.dsl import beam_dofn_specs  # noqa: E402

COUNT = userstate.BagStateSpec("count", VarIntCoder())
ALARM = userstate.TimerSpec("alarm", TimeDomain.WATERMARK)


class Plain(beam.DoFn):
    def process(self, element):  # noqa: ANN001, ANN201
        yield element


class Counting(beam.DoFn):
    def process(self, element, count=beam.DoFn.StateParam(COUNT)):  # noqa: ANN001, ANN201, B008
        count.add(1)
        yield element[0], sum(count.read())


class WithTimer(beam.DoFn):
    def process(self, element, alarm=beam.DoFn.TimerParam(ALARM)):  # noqa: ANN001, ANN201, B008
        yield element

    @userstate.on_timer(ALARM)
    def fire(self):  # noqa: ANN201
        yield "fired"


class Duplicated(beam.DoFn):
    def process(self, element, a=beam.DoFn.StateParam(COUNT), b=beam.DoFn.StateParam(COUNT)):  # noqa: ANN001, ANN201, B008
        yield element


class Holder:
    def stateful(self, element, count=beam.DoFn.StateParam(COUNT)):  # noqa: ANN001, ANN201, B008
        yield element


def _original(dofn: beam.DoFn):  # noqa: ANN202
    """Beam's function, whatever is installed: the closure the remembering version wraps."""
    function = userstate.get_dofn_specs
    cells = {cell.cell_contents for cell in (function.__closure__ or ()) if callable(cell.cell_contents)}
    return next(iter(cells)) if cells else function


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    beam_dofn_specs.install()
    beam_dofn_specs.install()  # twice: still one wrapper
    assert userstate.get_dofn_specs.__closure__ is not None


def _dofns() -> list[beam.DoFn]:
    bound_method_kept_on_instance = Plain()
    bound_method_kept_on_instance.process = Holder().stateful  # type: ignore[method-assign]
    return [Plain(), Counting(), WithTimer(), CallableWrapperDoFn(lambda x: [x]), bound_method_kept_on_instance]


@pytest.mark.parametrize("index", range(5))
def test_each_answer_equals_beams_own_every_time(index: int) -> None:
    dofn = _dofns()[index]
    expected = _original(dofn)(dofn)
    for _ in range(3):
        assert userstate.get_dofn_specs(dofn) == expected
        assert userstate.get_dofn_specs(_dofns()[index]) == expected


def test_an_instance_with_its_own_bound_method_is_not_answered_from_its_class() -> None:
    plain, with_state = _dofns()[0], _dofns()[4]
    assert userstate.get_dofn_specs(plain) == (set(), set())
    assert userstate.get_dofn_specs(with_state) == ({COUNT}, set())
    assert userstate.is_stateful_dofn(with_state) and not userstate.is_stateful_dofn(plain)


def test_a_returned_set_changed_by_a_caller_does_not_change_the_next_answer() -> None:
    states, _ = userstate.get_dofn_specs(Counting())
    states.clear()
    assert userstate.get_dofn_specs(Counting()) == ({COUNT}, set())


def test_duplicate_parameters_are_still_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="duplicate"):
            userstate.get_dofn_specs(Duplicated())


def test_a_stateful_pipeline_still_counts_per_key() -> None:
    from apache_beam.testing.util import assert_that, equal_to

    with beam.Pipeline(runner="DirectRunner") as pipeline:
        counted = pipeline | beam.Create([("a", 1), ("a", 2), ("b", 3)]) | beam.ParDo(Counting())
        assert_that(counted, equal_to([("a", 1), ("a", 2), ("b", 1)]))
