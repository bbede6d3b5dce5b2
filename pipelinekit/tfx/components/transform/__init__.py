"""``tfx.components.transform``: what Transform module files import (``stats_options_util``)."""
