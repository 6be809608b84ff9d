"""Event scores: how far a draw is from an indicator output's event.

An output ``y > t`` (or ``>=``, ``<``, ``<=``, possibly cast to a number) is an event
whose probability may be far too small for any first draw to reach. Its score
``y - t`` (``t - y`` for ``<``) is positive inside the event and says how close a
draw outside it came, which is what the multilevel start of the adaptive phase
climbs along (:func:`pymc_ais.core.engine.climbing.climbing_levels`). The score is read off
the expression's graph and computed in the same compiled call as the output: it costs
no model run.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.scalar import basic as ps
from pytensor.tensor.elemwise import Elemwise

_ABOVE = (ps.GT, ps.GE)
_BELOW = (ps.LT, ps.LE)


def event_score(graph: Variable) -> Variable | None:
    """The score graph of an indicator expression, or None if it is not one.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> y = pt.vector("y")
    >>> event_score(y > 3.0).eval({y: [1.0, 5.0]})
    array([-2.,  2.])
    >>> event_score(y**2) is None
    True
    """
    node = graph.owner
    while node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ps.Cast):
        node = node.inputs[0].owner
    if node is None or not isinstance(node.op, Elemwise):
        return None
    if isinstance(node.op.scalar_op, _ABOVE):
        left, right = node.inputs
    elif isinstance(node.op.scalar_op, _BELOW):
        right, left = node.inputs
    else:
        return None
    return pt.cast(left, "float64") - pt.cast(right, "float64")
