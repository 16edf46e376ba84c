"""The rule-file language: models, matchers, conditions, loading, the JSON Schema."""
