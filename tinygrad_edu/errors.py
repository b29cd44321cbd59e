"""The one exception type for mistakes a user can fix (bad spec, missing file, bad flag).

The CLI prints its message as one paragraph, without a traceback, and exits with
code 2. Library code raises it with the what, the where and the how-to-fix in the text.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem in the user's input, with a message that says how to fix it."""

    exit_code = 2
