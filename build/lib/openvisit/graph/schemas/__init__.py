"""Graph-shaped request/response models (camelCase), shared by the resource routers."""
