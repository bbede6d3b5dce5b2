"""``tfx.dsl.component.experimental``: ``annotations`` and ``decorators``, as TFX's older guides import them."""
