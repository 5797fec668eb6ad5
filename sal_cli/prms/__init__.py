"""Process reward models: one module per scoring protocol behind the `base.PRM` port."""
