"""``tfx.dsl.component``: the pre-v1 home of the function-component decorator."""
