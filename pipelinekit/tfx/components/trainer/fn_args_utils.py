"""TFX's ``tfx.components.trainer.fn_args_utils``: the Trainer's ``FnArgs`` and ``DataAccessor``
(defined in ``pipelinekit.components.trainer.fn_args``)."""

from pipelinekit.components.trainer.fn_args import DataAccessor, FnArgs, data_accessor_for, get_common_fn_args, read_schema

__all__ = ["DataAccessor", "FnArgs", "get_common_fn_args", "data_accessor_for", "read_schema"]
