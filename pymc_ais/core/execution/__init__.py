"""Execution: how batches of points become checked model evaluations.

The :class:`~pymc_ais.core.execution.evaluator.Evaluator` checks, counts and keeps every
batch; the dispatcher runs black-box callables in chunks, serially or on an executor,
under a failure policy and with a store of finished chunks; the driver feeds the
engine's kernel with them, block after block.
"""
