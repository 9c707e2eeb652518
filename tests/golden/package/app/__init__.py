"""A schema split across a package: types in one module, operations in another."""
