"""The project's self-proof: tools that show the suite catches what it must and accepts what it may.

Nothing in a gate run imports this package; it imports the runtime library and the reference.
"""
