"""The rules of fraiseql lint, by theme; ``fraiseql_compiler.lint.all_rules()`` lists them in order."""
