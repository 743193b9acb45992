"""Generates the WfCommons instances packsim's reader is tested on.

Run once with the `wfcommons` package from PyPI (its recipes ship with it):

    python3 -m venv /tmp/wf && /tmp/wf/bin/pip install wfcommons==1.6
    /tmp/wf/bin/python datasets/tests/wfcommons/make.py

The recipes are WfCommons's (LGPL-3.0 package); the instances they generate are synthetic
and made here. `createdAt` and file ids differ between runs; the task graphs and runtimes do
not, for a given seed.
"""

import pathlib
import random

import numpy
from wfcommons import WorkflowGenerator
from wfcommons.wfchef.recipes import BlastRecipe, EpigenomicsRecipe

HERE = pathlib.Path(__file__).parent

for recipe, tasks, name in [(BlastRecipe, 45, "blast"), (EpigenomicsRecipe, 60, "epigenomics")]:
    random.seed(1)
    numpy.random.seed(1)
    workflow = WorkflowGenerator(recipe.from_num_tasks(tasks)).build_workflow()
    # The recipe rounds the size it is asked for: the file is named after what it made.
    workflow.write_json(HERE / f"{name}-{len(workflow.nodes)}.json")
    print(name, len(workflow.nodes), "tasks")
