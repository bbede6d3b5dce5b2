"""CsvExampleGen and ImportExampleGen: files under ``input_base`` into split Examples."""

from pipelinekit.components.example_gen.component import CsvExampleGen, ImportExampleGen

__all__ = ["CsvExampleGen", "ImportExampleGen"]
