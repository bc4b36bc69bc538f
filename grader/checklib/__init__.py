"""The check library exercise checks are composed from (imported as `grader.checks`).

One module per job: `values` (kinds, shapes, dtypes, tolerances, NaN patterns),
`bugs` (known-bug tables: a bug simulator and the hint it earns), `grads`
(reference gradients and the gradient check), `state` (parameters after a call),
`stats` (statistical tests with stated false-failure bounds) and `table` (checks
built from a table of cases: differential, returns, inputs unchanged). All of it
runs on the trusted side; none of it enters the sandbox.
"""
