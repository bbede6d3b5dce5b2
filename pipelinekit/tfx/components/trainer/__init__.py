"""TFX's ``tfx.components.trainer`` names that module files import (``fn_args_utils``)."""
