"""CsvExampleGen and ImportExampleGen: files under ``input_base`` into split Examples."""

from components.example_gen.component import CsvExampleGen, ImportExampleGen

__all__ = ["CsvExampleGen", "ImportExampleGen"]
