"""TFX's ``tfx.components.tuner`` names that module files import (``component.TunerFnResult``)."""
