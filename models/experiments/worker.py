"""One worker process of `--jobs N`: `python -m models.experiments.worker SPEC.json`
runs trials of the study (claims.work) until it has no work left."""

import json
import os
import sys
from pathlib import Path

from models.experiments.studies import load_study
from models.experiments.claims import work
from models.experiments.trials import Experiment
from models.train.allocator import keep_freed_memory


def main(argv=None):
    """`python -m models.experiments.worker SPEC.json`: one worker process of `--jobs N` (the storage
    URL comes in $TAPE_STUDY_STORAGE, the study name in $TAPE_STUDY_NAME)."""
    keep_freed_memory()
    argv = sys.argv[1:] if argv is None else argv
    experiment = Experiment.from_dict(json.loads(Path(argv[0]).read_text()))
    study = load_study(os.environ["TAPE_STUDY_STORAGE"], os.environ["TAPE_STUDY_NAME"],
                       experiment)
    try:
        work(study, experiment)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
