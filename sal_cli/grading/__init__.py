"""Grading: final answers out of completions, math-verify equivalence, votes and metrics.

`extract.extract_answer` finds a completion's answer, `equivalence.equivalent` decides
whether two answers agree (gold first), `voting.vote_columns` writes the seed's
`pred_*@k` columns, and `metrics.evaluate` turns graded runs into accuracy vs n.
Nothing here imports math-verify or sympy until an answer is actually read or compared.
"""
