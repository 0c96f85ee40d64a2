"""`python -m viz.graph ...` runs the command of viz/graph/command.py."""

from viz.graph.command import main

if __name__ == "__main__":
    raise SystemExit(main())
