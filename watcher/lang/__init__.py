"""The rule language's pure pieces: durations, matchers, error locations, YAML marks and limits.

They know nothing of PBS, Globus, the store or the engine, so every layer may use them: the
rule model, the triggers, the actions' params, the settings file and the workflow spec files.
"""
