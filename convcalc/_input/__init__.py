"""Reading what users write: YAML model files, the chain shorthand, and the built-in zoo.

Everything here turns text into the model mapping of CONTRACT section 3, which the engine checks.
"""
