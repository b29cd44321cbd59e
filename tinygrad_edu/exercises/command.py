"""``python cli.py exercises list | make DIR | check DIR``: the teacher's and the student's
commands, registered by `tinygrad_edu.cli` with `add_parser`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UserError
from . import check_all, classroom, make, report
from .catalogue import EXERCISES

EXAMPLE = (
    "python cli.py exercises list\n  python cli.py exercises make hw1 --only value-tanh,relu\n"
    "  python cli.py exercises check hw1 --json --gradescope results.json"
)


def add_parser(sub: argparse._SubParsersAction, formatter: type) -> None:
    about = "Hand out exercises (students write the backward passes) and grade them."
    parser = sub.add_parser(
        "exercises",
        help=about,
        description=about,
        epilog=f"examples:\n  {EXAMPLE}",
        formatter_class=formatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("list", help="the exercises in the lecture's order")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p = actions.add_parser("make", help="write a student workspace into a new folder")
    p.add_argument("dir", metavar="DIR", help="a new or empty folder")
    p.add_argument("--only", metavar="ID,...", help="these exercises only (comma-separated)")
    p.add_argument("--solutions", action="store_true", help="write the solved workspace")
    p.add_argument(
        "--classroom-setup",
        metavar="CMD",
        help="the command GitHub Classroom installs tinygrad_edu with before grading "
        "(default: from the package index, with the exercises extra)",
    )
    p = actions.add_parser("check", help="grade a workspace, each exercise in its own process")
    p.add_argument("dir", metavar="DIR", help="the workspace (the folder holding minigrad/)")
    p.add_argument("--only", metavar="ID,...", help="grade these exercises only")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--gradescope", metavar="PATH", help="also write Gradescope's results.json")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:

    only = args.only.split(",") if getattr(args, "only", None) else None
    if args.action == "list":
        rows = [e.to_dict() for e in EXERCISES]
        if args.json:
            print(json.dumps({"exercises": rows}, indent=2))
        else:
            for e in EXERCISES:
                print(f"{e.id:<20} {e.points} pt  {e.file:<22} {e.function:<32} {e.title}")
                print(f"{'':<20}       section: {e.section}")
        return 0
    if args.action == "make":
        setup = classroom.SETUP if args.classroom_setup is None else args.classroom_setup
        if not setup.strip():
            raise UserError(
                "--classroom-setup is empty: name the command that installs tinygrad_edu"
            )
        written = make(args.dir, only, args.solutions, setup)
        kind = "solved workspace" if args.solutions else "workspace"
        print(f"wrote a {kind} of {len(written)} files to {args.dir}")
        print(
            f"next: read {args.dir}/README.md; grade with: python cli.py exercises check {args.dir}"
        )
        print(
            f"GitHub Classroom: push {args.dir} as the assignment's template; "
            f"{classroom.WORKFLOW} grades each push, one test per exercise"
        )
        return 0

    if args.gradescope:
        _check_destination(Path(args.gradescope))
    results = check_all(args.dir, only)
    if args.gradescope:
        report.write_gradescope(results, args.gradescope)
    if args.json:
        print(json.dumps(report.summary(results), indent=2))
    else:
        print(report.text(results))
    sys.stdout.flush()
    return 0 if all(r.passed for r in results) else 1


def _check_destination(path: Path) -> None:
    """Before grading starts: a results file that could not be written is said now."""

    if path.exists() and not path.is_file():
        raise UserError(f"--gradescope {path}: that is not a regular file; name a file instead")
    if not path.parent.is_dir():
        raise UserError(
            f"--gradescope {path}: the folder {path.parent} does not exist; create it first"
        )
