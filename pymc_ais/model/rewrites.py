"""Graph rewrites that keep a batched evaluation in compiled code.

Batching the points with ``vectorize_graph`` turns a linear solve of one vector (an
MvNormal's log-density, say) into a ``Blockwise`` solve looped over every point. The C
backend has no loop for it: each point becomes one Python call. When the matrix does
not vary along some batch axes of the right-hand side (it varies with the input law,
not with the point), those axes become the columns of ONE matrix right-hand side per
matrix: the same arithmetic, one call per matrix instead of one per point. PyTensor's
own rewrite of this kind needs a matrix with no batch axis at all, which several input
laws at once never give.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.graph.rewriting.utils import rewrite_graph
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.linalg import SolveBase


@node_rewriter([Blockwise])
def vector_solves_to_matrix_solves(fgraph, node):
    """``solve(a[..., m, m], b[..., m])`` with ``a`` constant along some of ``b``'s batch axes."""
    core = node.op.core_op
    if not isinstance(core, SolveBase) or core.b_ndim != 1:
        return None
    a, b = node.inputs
    n_batch = max(a.type.ndim - 2, b.type.ndim - 1)
    a = pt.shape_padleft(a, n_batch - (a.type.ndim - 2))
    b = pt.shape_padleft(b, n_batch - (b.type.ndim - 1))
    free = [i for i in range(n_batch) if a.type.broadcastable[i] and not b.type.broadcastable[i]]
    if not free:
        return None
    keep = [i for i in range(n_batch) if i not in free]
    # b: (keep..., free..., m) -> (keep..., m, F), F the product of the free axes' lengths
    moved = b.transpose(*keep, *free, n_batch)
    keep_shape = [moved.shape[k] for k in range(len(keep))]
    free_shape = [moved.shape[len(keep) + k] for k in range(len(free))]
    m = moved.shape[-1]
    columns = moved.reshape((*keep_shape, -1, m)).swapaxes(-1, -2)
    matrices = a.squeeze(axis=tuple(free))
    solved = Blockwise(type(core)(**{**core._props_dict(), "b_ndim": 2}))(matrices, columns)
    # back to (keep..., free..., m), then to the original axis order
    back = solved.swapaxes(-1, -2).reshape((*keep_shape, *free_shape, m))
    order = np.argsort([*keep, *free, n_batch])
    out = back.transpose(*order)
    extra = out.type.ndim - node.outputs[0].type.ndim
    if extra:
        out = out.squeeze(axis=tuple(range(extra)))
    return [pt.specify_broadcastable(out, *[i for i, bc in enumerate(node.outputs[0].type.broadcastable) if bc])]


def keep_solves_compiled(graphs: list[Variable]) -> list[Variable]:
    """``graphs`` with every vector solve batched over points made a matrix solve."""
    rewritten = rewrite_graph(graphs, include=(), custom_rewrite=in2out(vector_solves_to_matrix_solves), clone=False)
    assert isinstance(rewritten, list | tuple)  # a list of graphs in, a list of graphs out
    return list(rewritten)
