"""minigrad: a small autograd engine written by the student, one exercise at a time.

Run the checks from the workspace folder: ``python -m tinygrad_edu exercises check .``
(or ``python cli.py exercises check DIR`` from a clone of tinygrad_edu).
"""
