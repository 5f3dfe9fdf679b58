"""What runs inside the app's process: the middleware, its routes, and the change pipeline."""
