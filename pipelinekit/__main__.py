"""``python -m pipelinekit`` runs the CLI."""

from pipelinekit.cli import console_main

console_main()
