"""Models, layers, optimisers, data and training built on tape."""
